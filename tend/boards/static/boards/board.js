// Boards: drag a card to another column (SortableJS) to move the record to that stage.
// The server answers with the affected columns re-rendered (out-of-band), so after any answer —
// moved, refused, or a dialog asking for the stage's required properties — the board shows the truth.
(function () {
  function board() { return document.querySelector("[data-testid=board]"); }

  function csrfHeaders() {
    const raw = document.body.getAttribute("hx-headers");
    try { return raw ? JSON.parse(raw) : {}; } catch (e) { return {}; }
  }

  function onDrop(event) {
    const root = board();
    const from = event.from.dataset.stage;
    const to = event.to.dataset.stage;
    if (!root || from === to) return;
    htmx.ajax("POST", root.dataset.moveUrl, {
      target: "#board-feedback",
      swap: "innerHTML",
      headers: csrfHeaders(),
      values: { record: event.item.dataset.record, stage: to, state: root.dataset.state },
    });
  }

  function initLists(scope) {
    const root = board();
    if (!root || typeof Sortable === "undefined") return;
    const canMove = root.dataset.canMove === "true";
    const lists = scope.matches && scope.matches(".board-cards") ? [scope] : scope.querySelectorAll(".board-cards");
    lists.forEach(function (list) {
      if (list._sortable) return;
      list._sortable = Sortable.create(list, {
        group: "board",
        draggable: ".board-card",
        disabled: !canMove,
        animation: 120,
        ghostClass: "opacity-50",
        onEnd: onDrop,
      });
    });
  }

  function closeDialogs() {
    document.querySelectorAll("#board-feedback .modal").forEach(function (el) {
      const modal = bootstrap.Modal.getInstance(el);
      if (modal) modal.dispose();
    });
    document.querySelectorAll(".modal-backdrop").forEach(function (el) { el.remove(); });
    document.body.classList.remove("modal-open");
    document.body.style.removeProperty("overflow");
    document.body.style.removeProperty("padding-right");
  }

  // A refused move (403) and a dialog (422) carry content to show, and columns to restore.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "board-feedback") {
      if (event.detail.xhr.status === 403 || event.detail.xhr.status === 422) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
      closeDialogs();
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "board-feedback") {
      const dialog = document.getElementById("move-dialog");
      if (dialog) {
        bootstrap.Modal.getOrCreateInstance(dialog).show();
        const first = dialog.querySelector("[data-testid=move-field]");
        if (first) dialog.addEventListener("shown.bs.modal", function () { first.focus(); }, { once: true });
      }
    }
  });

  // Any other failure (server error, network): reload, so that the board shows the truth.
  ["htmx:responseError", "htmx:sendError"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      const target = event.detail.target;
      if (target && target.id === "board-feedback") window.location.reload();
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    htmx.onLoad(function (element) { initLists(element); });
    initLists(document);
  });
})();
