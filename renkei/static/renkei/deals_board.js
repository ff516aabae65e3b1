/* The deal board: drag a card to another column to move the deal (native HTML5
   drag-and-drop). Without this script each card's stage <select> and button work. */
(function () {
  "use strict";
  var board = document.getElementById("deal-board");
  if (!board) return;
  var errorBox = document.getElementById("board-error");
  var dragged = null;

  function showError(message) {
    errorBox.textContent = message;
    errorBox.classList.remove("d-none");
  }

  function updateTotals(columns) {
    board.querySelectorAll(".deal-column").forEach(function (column) {
      var count = column.querySelector(".column-count");
      if (!count) return;
      var row = columns[column.dataset.stageId] || { count: 0, total: "¥0" };
      count.textContent = row.count;
      column.querySelector(".column-total").textContent = row.total;
    });
  }

  function place(card, column) {
    var stageId = column.dataset.stageId;
    card.dataset.stageId = stageId;
    card.querySelector("input[name=expected_stage]").value = stageId;
    var select = card.querySelector("select[name=stage]");
    if (select) select.value = stageId;
    if (column.dataset.closed === "1") {
      card.remove();
    } else {
      column.querySelector(".deal-cards").prepend(card);
    }
  }

  function move(card, column) {
    var form = card.querySelector("form.deal-move-form");
    var data = new FormData();
    data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    data.append("stage", column.dataset.stageId);
    data.append("expected_stage", card.dataset.stageId);
    card.classList.add("deal-card-busy");
    fetch(card.dataset.moveUrl, {
      method: "POST",
      body: data,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { status: response.status, body: body };
        });
      })
      .then(function (result) {
        card.classList.remove("deal-card-busy");
        if (result.status === 200) {
          errorBox.classList.add("d-none");
          place(card, column);
          updateTotals(result.body.columns);
        } else if (result.body.errors && result.body.errors.lost_reason) {
          // A lost deal needs a reason: the deal page has the form for it.
          window.location.href = card.dataset.detailUrl + "#close-form";
        } else {
          showError(result.body.message || String(result.status));
        }
      })
      .catch(function (error) {
        card.classList.remove("deal-card-busy");
        showError(String(error));
      });
  }

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".deal-card");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.dealId);
    card.classList.add("deal-card-dragging");
  });
  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("deal-card-dragging");
    board.querySelectorAll(".deal-column-over").forEach(function (c) {
      c.classList.remove("deal-column-over");
    });
    dragged = null;
  });
  board.addEventListener("dragover", function (event) {
    var column = event.target.closest && event.target.closest(".deal-column");
    if (!column || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    column.classList.add("deal-column-over");
  });
  board.addEventListener("dragleave", function (event) {
    var column = event.target.closest && event.target.closest(".deal-column");
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("deal-column-over");
  });
  board.addEventListener("drop", function (event) {
    var column = event.target.closest && event.target.closest(".deal-column");
    if (!column || !dragged) return;
    event.preventDefault();
    column.classList.remove("deal-column-over");
    if (column.dataset.stageId !== dragged.dataset.stageId) move(dragged, column);
  });
})();
