// "Copy" buttons of the form page: copy the code in the textarea they name.
// Without JavaScript (or clipboard access) the code can still be selected by hand.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var area = document.getElementById(button.getAttribute("data-copy"));
  if (!area) return;
  area.select();
  var done = function () {
    button.classList.add("btn-success");
    setTimeout(function () { button.classList.remove("btn-success"); }, 1200);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(area.value).then(done);
  } else if (document.execCommand("copy")) {
    done();
  }
});
