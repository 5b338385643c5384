// The score profile editor: one Alpine component holding the whole draft (name, description,
// priority, segment and definition), posted as JSON. The server validates everything and answers
// errors with the path of the field they name (`groups[0].criteria[1].bands[0].points`), shown
// next to that field.
function profileEditor(config) {
  const copy = (value) => JSON.parse(JSON.stringify(value));
  const measures = Object.fromEntries(config.measures.map((m) => [m.kind, m]));
  const slug = (text, fallback) =>
    (text || "").toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "") || fallback;
  const draft = copy(config.initial.definition || {});
  draft.groups = draft.groups || [];
  draft.statuses = draft.statuses || copy(config.schemes[0] ? config.schemes[0].statuses : []);
  draft.missing_data = draft.missing_data || "exclude";
  draft.groups.forEach((g) => (g.criteria || []).forEach((c) => {
    c.bands = c.bands || [];
    c.measure = c.measure || { kind: config.measures[0].kind };
  }));
  return {
    readOnly: config.readOnly,
    name: config.initial.name,
    description: config.initial.description || "",
    priority: config.initial.priority,
    segment: config.initial.segment || { filterGroups: [] },
    definition: draft,
    measures: config.measures,
    schemes: config.schemes,
    errors: {},
    errorList: [],
    detail: "",
    message: "",
    saving: false,
    dirty: false,

    init() {
      this.$watch("definition", () => this.touched(), { deep: true });
      ["name", "description", "priority", "segment"].forEach((k) => this.$watch(k, () => this.touched()));
    },
    touched() { this.dirty = true; this.message = ""; },

    // ---- errors by path
    err(path) { return this.errors[path] || ""; },
    errUnder(prefix) {
      return Object.entries(this.errors).filter(([k]) => k === prefix || k.startsWith(prefix + ".") || k.startsWith(prefix + "[")).map(([, v]) => v).join(" ");
    },

    // ---- groups, criteria, bands
    total() { return this.definition.groups.reduce((sum, g) => sum + (Number(g.max) || 0), 0); },
    criterionMax(group) { return group.criteria.reduce((m, c) => Math.max(m, ...c.bands.map((b) => Number(b.points) || 0)), 0); },
    addGroup() {
      const n = this.definition.groups.length + 1;
      this.definition.groups.push({ key: `group_${n}`, label: "", max: 0, criteria: [] });
    },
    removeGroup(gi) { this.definition.groups.splice(gi, 1); },
    moveGroup(gi, delta) {
      const to = gi + delta, list = this.definition.groups;
      if (to < 0 || to >= list.length) return;
      [list[gi], list[to]] = [list[to], list[gi]];
    },
    addCriterion(group) {
      const kind = this.measures[0].kind;
      group.criteria.push({
        key: `${group.key}_${group.criteria.length + 1}`,
        label: "",
        measure: this.defaultMeasure(kind),
        bands: [{ min: null, points: 0, label: "" }],
      });
    },
    removeCriterion(group, ci) { group.criteria.splice(ci, 1); },
    keyFromLabel(item, fallback) { if (!item.key || item.key.startsWith("group_") || /_\d+$/.test(item.key)) item.key = slug(item.label, fallback); },
    measure(kind) { return measures[kind] || { kind, label: kind, params: [], valueKind: "number" }; },
    paramOptions(criterion, param) {
      if (param.optionsBy) return param.optionsBy[criterion.measure[param.objectTypeParam]] || [];
      return param.options || [];
    },
    isEnumeration(criterion) {
      const spec = this.measure(criterion.measure.kind);
      if (spec.valueKind === "category") return true;
      if (spec.valueKind !== "property") return false;
      const param = spec.params.find((p) => p.name === "property");
      const option = param && this.paramOptions(criterion, param).find((o) => o.value === criterion.measure.property);
      return !!(option && option.category);
    },
    convertBands(criterion) {
      const enumeration = this.isEnumeration(criterion);
      criterion.bands = criterion.bands.map((b) => enumeration
        ? { values: b.values || [], points: b.points, label: b.label }
        : { min: b.min ?? null, points: b.points, label: b.label });
    },
    defaultMeasure(kind) {
      const out = { kind };
      this.measure(kind).params.forEach((p) => { if (p.default !== undefined && p.default !== null) out[p.name] = copy(p.default); });
      return out;
    },
    changedMeasure(criterion) {
      criterion.measure = this.defaultMeasure(criterion.measure.kind);
      this.convertBands(criterion);
    },
    listValue(value) { return Array.isArray(value) ? value.join(", ") : (value ?? ""); },
    setList(target, name, text) { target[name] = text.split(",").map((s) => s.trim()).filter(Boolean); },
    addBand(criterion) {
      criterion.bands.push(this.isEnumeration(criterion) ? { values: [], points: 0, label: "" } : { min: null, points: 0, label: "" });
    },
    removeBand(criterion, bi) { criterion.bands.splice(bi, 1); },
    moveBand(criterion, bi, delta) {
      const to = bi + delta, list = criterion.bands;
      if (to < 0 || to >= list.length) return;
      [list[bi], list[to]] = [list[to], list[bi]];
    },

    // ---- statuses
    useScheme(index) { this.definition.statuses = copy(this.schemes[index].statuses); },
    statusKeys: config.statusKeys,
    addStatus() {
      const used = new Set(this.definition.statuses.map((s) => s.key));
      const free = this.statusKeys.find((k) => !used.has(k.key));
      this.definition.statuses.push({ key: free ? free.key : "", label: free ? free.label : "", min: 0, color: "secondary", action: "" });
    },
    removeStatus(si) { this.definition.statuses.splice(si, 1); },

    // ---- segment (the Customers tab's filter builder posts here, see the listener below)
    segmentText() {
      const groups = (this.segment && this.segment.filterGroups) || [];
      if (!groups.length) return config.texts.allCustomers;
      const schema = config.builder;
      const label = (name) => (schema.properties.find((p) => p.name === name) || { label: name }).label;
      const optionLabel = (name, v) => {
        const prop = schema.properties.find((p) => p.name === name);
        const option = prop && prop.options.find((o) => String(o.value) === String(v));
        return option ? option.label : v;
      };
      return groups.map((g) => g.filters.map((f) => {
        const values = f.values ? f.values.map((v) => optionLabel(f.propertyName, v)).join(", ") : optionLabel(f.propertyName, f.value ?? "");
        return `${label(f.propertyName)} ${schema.operators[f.operator] || f.operator} ${values}`.trim();
      }).join(` ${config.texts.and} `)).join(` ${config.texts.or} `);
    },

    // ---- saving, testing, previewing
    body() {
      const definition = copy(this.definition);
      definition.groups.forEach((g) => g.criteria.forEach((c) => c.bands.forEach((b) => {
        if ("min" in b && (b.min === "" || b.min === undefined)) b.min = null;
      })));
      return { name: this.name, description: this.description, priority: this.priority, segment: this.segment, definition };
    },
    async save() {
      if (this.readOnly) return false;
      this.saving = true;
      try {
        const response = await fetch(config.saveUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRFToken": config.csrf },
          body: JSON.stringify(this.body()),
        });
        const data = await response.json().catch(() => ({}));
        if (!response.ok) {
          this.errorList = (data.errors || []).map((e) => ({ ...e, field: e.field.replace(/^definition\./, "") }));
          this.errors = Object.fromEntries(this.errorList.map((e) => [e.field, e.message]));
          this.detail = data.detail || config.texts.failed;
          this.$nextTick(() => this.$refs.errorSummary && this.$refs.errorSummary.focus());
          return false;
        }
        this.errors = {}; this.errorList = []; this.detail = "";
        this.message = data.message;
        if (data.status) config.onStatus && config.onStatus(data.status);
        this.$nextTick(() => { this.dirty = false; });
        return true;
      } finally {
        this.saving = false;
      }
    },
    async runTest(url) {
      if (await this.save()) htmx.ajax("GET", url, { target: "#test-result", swap: "innerHTML" });
    },
    async runPreview() {
      if (await this.save()) htmx.ajax("GET", config.previewUrl, { target: "#preview-result", swap: "innerHTML" });
    },
    async activate(form) {
      if (await this.save()) form.submit();
    },
  };
}

// The advanced filter modal of the Customers tab submits a GET form; on the profile editor it
// sets the segment instead (the modal's own handler has already serialized the filters).
document.addEventListener("submit", (event) => {
  const form = event.target.closest && event.target.closest("#filters-modal form");
  if (!form || !document.querySelector("[data-profile-editor]")) return;
  event.preventDefault();
  const value = form.querySelector("input[name=filters]").value || "{}";
  window.dispatchEvent(new CustomEvent("health-segment", { detail: JSON.parse(value) }));
  bootstrap.Modal.getOrCreateInstance(document.getElementById("filters-modal")).hide();
});
