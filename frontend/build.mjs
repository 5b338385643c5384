// Copies the pinned npm packages' distribution files into tend/core/static/vendor/.
// Run by the setup step (make setup); the output is not committed.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const out = join(here, "..", "tend", "core", "static", "vendor");

const files = {
  "htmx.org/dist/htmx.min.js": "htmx.min.js",
  "alpinejs/dist/cdn.min.js": "alpine.min.js",
  "bootstrap/dist/css/bootstrap.min.css": "bootstrap.min.css",
  "bootstrap/dist/js/bootstrap.bundle.min.js": "bootstrap.bundle.min.js",
  "bootstrap-icons/font/bootstrap-icons.min.css": "bootstrap-icons.min.css",
  "bootstrap-icons/font/fonts": "fonts",
  "sortablejs/Sortable.min.js": "sortable.min.js",
  "fullcalendar/index.global.min.js": "fullcalendar.min.js",
  "@fullcalendar/core/locales-all.global.min.js": "fullcalendar-locales.min.js",
  "echarts/dist/echarts.min.js": "echarts.min.js",
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const [from, to] of Object.entries(files)) {
  cpSync(join(modules, from), join(out, to), { recursive: true });
  console.log(`vendor/${to}`);
}
