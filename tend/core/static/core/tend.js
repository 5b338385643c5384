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
