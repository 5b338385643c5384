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
