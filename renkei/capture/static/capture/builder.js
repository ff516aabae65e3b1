// Form builder: show a row's property key only for "custom property" and its options only
// for choice lists. Without JavaScript every input stays visible and works the same.
(function () {
  function update(row) {
    var type = row.querySelector("select[name$='-type']");
    var target = row.querySelector("select[name$='-target']");
    row.querySelectorAll("[data-shown-for-type]").forEach(function (el) {
      var errors = el.querySelector(".is-invalid");
      el.hidden = !errors && type && type.value !== el.getAttribute("data-shown-for-type");
    });
    row.querySelectorAll("[data-shown-for-target]").forEach(function (el) {
      var errors = el.querySelector(".is-invalid");
      el.hidden = !errors && target && target.value !== el.getAttribute("data-shown-for-target");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".field-row").forEach(update);
  });
  document.addEventListener("change", function (event) {
    var row = event.target.closest(".field-row");
    if (row) update(row);
  });
})();
