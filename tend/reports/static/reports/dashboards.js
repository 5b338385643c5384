// Dashboards: drag tiles (edit mode) and the tab's dashboards (settings managers) with SortableJS,
// posting the new order; the filters bar applies itself once a choice is complete; dialogs open for
// the fragments swapped into them and a confirmation dialog fills itself from the button clicked.
(function () {
  function csrfHeaders() {
    const raw = document.body.getAttribute("hx-headers");
    try { return raw ? JSON.parse(raw) : {}; } catch (e) { return {}; }
  }

  // The order as the page shows it now; a refusal reloads, so that the page shows the truth.
  function postOrder(url, name, ids) {
    const body = new URLSearchParams();
    ids.forEach(function (id) { body.append(name, id); });
    return fetch(url, {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/x-www-form-urlencoded" }, csrfHeaders()),
      body: body,
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) window.location.reload();
    }, function () { window.location.reload(); });
  }

  function initGrid(root) {
    const grid = root.id === "dashboard-grid" ? root : root.querySelector && root.querySelector("#dashboard-grid");
    if (!grid || grid._sortable || typeof Sortable === "undefined" || grid.dataset.editing !== "true") return;
    grid._sortable = Sortable.create(grid, {
      draggable: ".dashboard-tile",
      handle: ".tile-edit-bar",
      filter: "select, button, a, input",
      preventOnFilter: false,
      animation: 150,
      ghostClass: "sortable-ghost",
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) return;
        const ids = [...grid.querySelectorAll(".dashboard-tile")].map(function (el) { return el.dataset.item; });
        postOrder(grid.dataset.orderUrl, "item", ids);
      },
    });
  }

  function initTabs(root) {
    const tabs = root.id === "dashboard-tabs" ? root : root.querySelector && root.querySelector("#dashboard-tabs");
    if (!tabs || tabs._sortable || typeof Sortable === "undefined" || tabs.dataset.canOrder !== "true") return;
    tabs._sortable = Sortable.create(tabs, {
      draggable: ".nav-item",
      animation: 150,
      ghostClass: "sortable-ghost",
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) return;
        const ids = [...tabs.querySelectorAll("[data-entry]")].map(function (el) { return el.dataset.entry; });
        postOrder(tabs.dataset.orderUrl, "entry", ids);
      },
    });
  }

  function init(root) {
    initGrid(root);
    initTabs(root);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });

  function hideModal(id) {
    const el = document.getElementById(id);
    const modal = el && bootstrap.Modal.getInstance(el);
    if (modal) modal.hide();
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail.target;
    if (!target) return;
    if (target.id === "dashboard-form-slot") {
      bootstrap.Modal.getOrCreateInstance(document.getElementById("dashboard-form-dialog")).show();
    }
    // A report added from the dialog: the grid is fresh underneath, the dialog's work is done.
    if (target.id === "dashboard-grid" && event.detail.requestConfig && event.detail.requestConfig.elt.closest("#add-report-dialog")) {
      hideModal("add-report-dialog");
    }
  });

  // The filters bar swaps the whole dashboard (the dialog included): no backdrop may outlive it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "dashboard") {
      document.querySelectorAll("#dashboard .modal").forEach(function (el) {
        const modal = bootstrap.Modal.getInstance(el);
        if (modal) modal.dispose();
      });
      document.querySelectorAll(".modal-backdrop").forEach(function (el) { el.remove(); });
      document.body.classList.remove("modal-open");
      document.body.style.removeProperty("overflow");
      document.body.style.removeProperty("padding-right");
    }
  });

  // A tile whose chart could not be loaded says so in place; the others are unaffected.
  ["htmx:responseError", "htmx:sendError"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      const el = event.detail.elt;
      if (!el || !el.classList || !el.classList.contains("tile-chart")) return;
      const status = event.detail.xhr ? event.detail.xhr.status : 0;
      const card = document.createElement("section");
      card.className = "card h-100";
      const body = document.createElement("div");
      body.className = "card-body tile-problem small";
      body.setAttribute("role", "status");
      body.textContent = (status === 404 || status === 403 ? el.dataset.forbiddenText : el.dataset.errorText) || "";
      card.appendChild(body);
      el.replaceChildren(card);
    });
  });

  // Buttons carrying data-confirm-* open the page's one confirmation dialog for their action.
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-confirm-action]");
    if (!button) return;
    const dialog = document.getElementById("confirm-dialog");
    if (!dialog) return;
    event.preventDefault();
    dialog.querySelector("form").setAttribute("action", button.dataset.confirmAction);
    dialog.querySelector(".modal-title").textContent = button.dataset.confirmTitle || "";
    dialog.querySelector("[data-confirm=body]").textContent = button.dataset.confirmBody || "";
    dialog.querySelector("[data-confirm=button]").textContent = button.dataset.confirmButton || "";
    bootstrap.Modal.getOrCreateInstance(dialog).show();
  });
})();

// The filters bar (Alpine): a person or a team, not both; a custom range applies once both of its
// dates are set; any other change applies at once.
function dashboardFilters(range, owner, team) {
  return {
    range: range,
    owner: owner,
    team: team,
    changed(event) {
      const form = this.$el;
      const name = event.target.name;
      if (name === "range" && this.range === "custom") return;
      if (name === "start" || name === "end") {
        if (!form.elements.start.value || !form.elements.end.value) return;
      }
      this.$nextTick(function () { htmx.trigger(form, "apply"); });
    },
  };
}
