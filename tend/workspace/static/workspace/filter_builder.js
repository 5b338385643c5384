// The advanced filter builder: edits the one filter language (filterGroups OR-ed, filters AND-ed)
// and hands the JSON to the Customers form. Values are offered by property type.
function filterBuilder(schema, initial) {
  const byName = Object.fromEntries(schema.properties.map((p) => [p.name, p]));
  const noValue = new Set(["HAS_PROPERTY", "NOT_HAS_PROPERTY", "IS_ME"]);
  const multi = new Set(["IN", "NOT_IN"]);
  const groups = ((initial && initial.filterGroups) || []).map((g) => ({
    filters: (g.filters || []).map((f) => ({
      propertyName: f.propertyName,
      operator: f.operator,
      value: f.value ?? "",
      highValue: f.highValue ?? "",
      values: (f.values || []).map(String),
    })),
  }));
  return {
    schema,
    groups,
    query: (initial && initial.query) || "",
    prop(name) { return byName[name] || { operators: [], options: [], type: "text" }; },
    operatorLabel(op) { return schema.operators[op] || op; },
    needsValue(f) { return !noValue.has(f.operator) && !multi.has(f.operator); },
    needsValues(f) { return multi.has(f.operator); },
    needsHigh(f) { return f.operator === "BETWEEN"; },
    isDays(f) { return f.operator === "IN_LAST_DAYS" || f.operator === "IN_NEXT_DAYS"; },
    inputType(f) {
      if (this.isDays(f)) return "number";
      const t = this.prop(f.propertyName).type;
      return { number: "number", currency: "number", date: "date", datetime: "datetime-local" }[t] || "text";
    },
    hasOptions(f) { return this.prop(f.propertyName).options.length > 0 && !this.isDays(f); },
    addGroup() { this.groups.push({ filters: [this.blank()] }); },
    addFilter(group) { group.filters.push(this.blank()); },
    removeFilter(group, index) {
      group.filters.splice(index, 1);
      if (!group.filters.length) this.groups.splice(this.groups.indexOf(group), 1);
    },
    blank() {
      const first = schema.properties[0];
      return { propertyName: first.name, operator: first.operators[0], value: "", highValue: "", values: [] };
    },
    changedProperty(f) {
      const ops = this.prop(f.propertyName).operators;
      if (!ops.includes(f.operator)) f.operator = ops.includes("EQ") ? "EQ" : ops[0];
      f.value = ""; f.highValue = ""; f.values = [];
    },
    typed(f, raw) {
      const t = this.prop(f.propertyName).type;
      if (this.isDays(f)) return raw === "" ? raw : Number(raw);
      if (t === "number" || t === "currency") return raw === "" ? raw : Number(raw);
      if (t === "user" || t === "stage" || t === "pipeline") return raw === "" ? raw : Number(raw);
      if (t === "boolean") return raw === "true";
      return raw;
    },
    serialize() {
      const body = {
        filterGroups: this.groups.map((g) => ({
          filters: g.filters.map((f) => {
            const out = { propertyName: f.propertyName, operator: f.operator };
            if (this.needsValues(f)) out.values = f.values.map((v) => this.typed(f, v));
            else if (this.needsValue(f)) out.value = this.typed(f, f.value);
            if (this.needsHigh(f)) out.highValue = this.typed(f, f.highValue);
            return out;
          }),
        })).filter((g) => g.filters.length),
      };
      if (this.query) body.query = this.query;
      return JSON.stringify(body);
    },
  };
}

// Edit columns: choose and order properties.
function columnEditor(all, chosen) {
  const labels = Object.fromEntries(all.map((p) => [p.name, p.label]));
  return {
    all,
    chosen: [...chosen],
    label(name) { return labels[name] || name; },
    available() { return this.all.filter((p) => !this.chosen.includes(p.name)); },
    add(name) { if (name && !this.chosen.includes(name)) this.chosen.push(name); },
    remove(i) { this.chosen.splice(i, 1); },
    up(i) { if (i > 0) [this.chosen[i - 1], this.chosen[i]] = [this.chosen[i], this.chosen[i - 1]]; },
    down(i) { if (i < this.chosen.length - 1) [this.chosen[i + 1], this.chosen[i]] = [this.chosen[i], this.chosen[i + 1]]; },
  };
}
