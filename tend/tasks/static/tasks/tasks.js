// The Tasks tab: selection for bulk actions (a page, or every task matching the filter) and
// refreshing the list and counts after a change made in the side panel or by a bulk action.
function taskSelection() {
  const labels = JSON.parse(document.getElementById("bulk-labels")?.textContent || "{}");
  const say = (key, n) => (labels[n === 1 ? `${key}_one` : `${key}_other`] || "").replace("{n}", n.toLocaleString());
  return {
    selected: [],
    pageIds: [],
    total: 0,
    all: false,
    setPage(ids, total) {
      this.pageIds = ids;
      this.total = total;
      this.selected = this.selected.filter((id) => ids.includes(id));
      this.all = false;
    },
    get count() { return this.all ? this.total : this.selected.length; },
    get pageSelected() { return this.pageIds.length > 0 && this.pageIds.every((id) => this.selected.includes(id)); },
    isSelected(id) { return this.all || this.selected.includes(id); },
    toggle(id, checked) {
      if (this.all) { this.all = false; this.selected = [...this.pageIds]; }
      this.selected = checked ? [...new Set([...this.selected, id])] : this.selected.filter((s) => s !== id);
    },
    togglePage(checked) { this.all = false; this.selected = checked ? [...this.pageIds] : []; },
    selectAll() { this.all = true; this.selected = [...this.pageIds]; },
    clear() { this.all = false; this.selected = []; },
    countLabel() { return say("selected", this.count); },
    selectAllLabel() { return say("select_all", this.total); },
    allSelectedLabel() { return say("all_selected", this.total); },
    deleteLabel() { return say("delete", this.count); },
  };
}

document.addEventListener("tasksChanged", (event) => {
  const page = document.getElementById("tasks-page");
  if (!page) return;
  const message = event.detail && event.detail.message;
  const show = () => {
    const feedback = document.getElementById("tasks-feedback");
    if (!message || !feedback) return;
    feedback.innerHTML = "";
    const alert = document.createElement("div");
    alert.className = "alert alert-success py-2";
    alert.setAttribute("role", "status");
    alert.dataset.testid = "tasks-feedback-message";
    alert.textContent = message;
    feedback.appendChild(alert);
  };
  show();
  // One request refreshes the list and the view counts together (the kit's list fragment); the
  // feedback lives inside the list, so it is shown again in the fresh fragment.
  htmx.ajax("GET", window.location.href, { target: "#list", swap: "outerHTML", headers: { "HX-Target": "list" } }).then(show);
});
