// Small glue between htmx and Bootstrap: fragments that target the side panel open it.
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target && event.detail.target.id === "side-panel-body") {
    const panel = bootstrap.Offcanvas.getOrCreateInstance(document.getElementById("side-panel"));
    panel.show();
  }
});
document.addEventListener("tend:close-panel", () => {
  const element = document.getElementById("side-panel");
  if (element) bootstrap.Offcanvas.getOrCreateInstance(element).hide();
});

// A list screen's fragment may be swapped while one of its dialogs is open (a filter applied from
// the dialog): close the dialog first, so that no backdrop outlives it.
function closeDialogsIn(root) {
  if (!root || !root.querySelector || !root.querySelector(".modal")) return;
  root.querySelectorAll(".modal").forEach((el) => {
    const modal = bootstrap.Modal.getInstance(el);
    if (modal) modal.dispose();
  });
  document.querySelectorAll(".modal-backdrop").forEach((el) => el.remove());
  document.body.classList.remove("modal-open");
  document.body.style.removeProperty("overflow");
  document.body.style.removeProperty("padding-right");
}
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.target && event.detail.target.id === "list") closeDialogsIn(event.detail.target);
});

// The "All views" menu of a list screen: type to filter, arrows to move, Enter to open, Escape
// to close (Bootstrap's dropdown closes on Escape and moves between visible items with arrows).
function viewsMenu() {
  const fold = (text) => (text || "").normalize("NFKC").toLocaleLowerCase();
  return {
    query: "",
    init() {
      this.$el.addEventListener("shown.bs.dropdown", () => this.$refs.search.focus());
      this.$el.addEventListener("hidden.bs.dropdown", () => { this.query = ""; });
    },
    shows(el) {
      const words = fold(this.query).split(/\s+/).filter(Boolean);
      const text = fold(el.dataset.search);
      return words.every((word) => text.includes(word));
    },
    groupShows(el) {
      return [...el.querySelectorAll("[data-search]")].some((item) => this.shows(item));
    },
    anyShows() {
      return [...this.$refs.list.querySelectorAll("[data-search]")].some((item) => this.shows(item));
    },
    visibleItems() {
      return [...this.$refs.list.querySelectorAll("[data-search]")].filter((item) => this.shows(item));
    },
    keydown(event) {
      const search = this.$refs.search;
      const items = this.visibleItems();
      if (event.target === search) {
        if (event.key === "ArrowDown" && items.length) {
          event.preventDefault();
          items[0].focus();
        } else if (event.key === "Enter") {
          event.preventDefault();
          if (items.length) items[0].click();
        }
        return;
      }
      if (event.key === "ArrowUp" && event.target === items[0]) {
        // Back to the search box from the first view (Bootstrap would stay put).
        event.preventDefault();
        event.stopPropagation();
        search.focus();
      } else if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
        search.focus();  // typing on a view goes on filtering
      }
    },
  };
}
