// archspec's interactive view of one network: the Graphviz drawing (blocks fold and unfold),
// a layer table kept in step with it, each layer's report row and spec line, search, pan and zoom.
// Everything it shows comes from the JSON in #archspec-data; it fetches nothing.
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("archspec-data").textContent);
  const svg = document.querySelector("#canvas svg");
  const byName = new Map(data.layers.map((layer) => [layer.name, layer]));
  const titleOf = (element) => (element.querySelector(":scope > title") || {}).textContent || "";
  const nodes = new Map([...svg.querySelectorAll("g.node")].map((g) => [titleOf(g), g]));
  const clusters = new Map([...svg.querySelectorAll("g.cluster")].map((g) => [titleOf(g).replace(/^cluster_/, ""), g]));
  const edges = [...svg.querySelectorAll("g.edge")].map((g) => ({ element: g, ends: titleOf(g).split("->") }));
  const rows = new Map();
  const collapsed = new Set();
  let selected = null;

  // -- the header: totals and warnings
  const number = (value) => value.toLocaleString("en-US");
  const summary = document.getElementById("summary");
  summary.innerHTML = "";
  const heading = document.createElement("h1");
  heading.textContent = `${data.network}: ${data.io}`;
  const totals = document.createElement("div");
  totals.className = "totals";
  totals.textContent = `${number(data.totals.params)} params (${number(data.totals.trainable_params)} trainable) · `
    + `${number(data.totals.macs)} MACs · ${number(data.totals.flops.tfprof)} FLOPs (tfprof) · ${data.layers.length} layers`;
  summary.append(heading, totals);
  if (data.warnings.length) {  // the count by code shows; each warning's line is one click away
    const fold = document.createElement("details");
    const count = document.createElement("summary");
    count.className = "warning";
    count.textContent = data.warnings[data.warnings.length - 1];
    fold.append(count);
    for (const warning of data.warnings.slice(0, -1)) {
      const line = document.createElement("p");
      line.className = "warning";
      line.textContent = warning;
      fold.append(line);
    }
    summary.append(fold);
  }

  // -- the spec text, one element per line
  const source = document.getElementById("source");
  data.source.split("\n").forEach((text, index) => {
    const line = document.createElement("span");
    line.className = "line";
    line.dataset.line = String(index + 1);
    const digits = document.createElement("span");
    digits.className = "number";
    digits.textContent = String(index + 1);
    line.append(digits, document.createTextNode(text));
    source.append(line);
  });

  // -- the layer table
  const body = document.querySelector("#layers tbody");
  for (const layer of data.layers) {
    const row = document.createElement("tr");
    row.dataset.name = layer.name;
    for (const [text, numeric] of [[layer.name], [layer.kind], [layer.output_shape.join("x")], [number(layer.params), true]]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      if (numeric) cell.className = "num";
      row.append(cell);
    }
    row.addEventListener("click", () => select(layer.name, true));
    body.append(row);
    rows.set(layer.name, row);
  }

  // -- selection: the node, its row, its report figures and its spec line
  function field(rf) {
    if (!rf) return "-";
    return `${rf.size.join("x")}, stride ${rf.stride.join("x")}, padding ${rf.padding.join("x")}`;
  }

  function select(name, centre) {
    const layer = byName.get(name);
    if (!layer) return null;
    if (selected) {
      (nodes.get(selected) || { classList: { remove() {} } }).classList.remove("selected");
      rows.get(selected).classList.remove("selected");
    }
    selected = name;
    const node = nodes.get(name);
    if (node) node.classList.add("selected");
    const row = rows.get(name);
    row.classList.add("selected");
    row.scrollIntoView({ block: "nearest" });
    const details = document.getElementById("details");
    details.innerHTML = "";
    const list = document.createElement("dl");
    const items = [
      ["layer", layer.name], ["kind", `${layer.kind} (${layer.label})`], ["block", layer.block || "-"],
      ["inputs", layer.inputs.join(", ")], ["output shape", layer.output_shape.join("x")],
      ["params", `${number(layer.params)} (trainable ${number(layer.trainable_params)}, non-trainable ${number(layer.params - layer.trainable_params)})`],
      ["MACs", number(layer.macs)], ["FLOPs (tfprof)", number(layer.flops.tfprof)], ["receptive field", field(layer.receptive_field)],
      ["spec line", layer.line ? `${data.file}:${layer.line}` : "-"],
    ];
    for (const [term, value] of items) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dd.dataset.field = term;
      list.append(dt, dd);
    }
    details.append(list);
    for (const line of source.querySelectorAll(".line.current")) line.classList.remove("current");
    const current = layer.line && source.querySelector(`.line[data-line="${layer.line}"]`);
    if (current) {
      current.classList.add("current");
      current.scrollIntoView({ block: "nearest" });
    }
    if (centre) {  // a layer inside a folded block: centre on the outermost folded frame instead
      const fold = layer.groups.find((group) => collapsed.has(group));
      const target = fold ? clusters.get(fold) : node;
      if (target) centreOn(target);
    }
    return layer;
  }

  for (const [name, node] of nodes) {
    node.addEventListener("click", (event) => { event.stopPropagation(); select(name, false); });
  }

  // -- folding blocks: a layer is hidden while any group around it is folded
  const groupOf = new Map(data.groups.map((group) => [group.id, group]));
  function hidden(name) {
    const layer = byName.get(name);
    return Boolean(layer && layer.groups.some((group) => collapsed.has(group)));
  }

  function refresh() {
    for (const [name, node] of nodes) node.classList.toggle("folded", hidden(name));
    // edges inside a folded block go with it; those that cross its frame stay
    for (const edge of edges) edge.element.classList.toggle("folded", edge.ends.every(hidden));
    for (const [id, cluster] of clusters) {
      const group = groupOf.get(id);
      cluster.classList.toggle("collapsed", collapsed.has(id));
      cluster.classList.toggle("folded", Boolean(group && group.parents.some((parent) => collapsed.has(parent))));
    }
  }

  function collapse(id) { if (groupOf.has(id)) { collapsed.add(id); refresh(); } return collapsed.has(id); }
  function expand(id) { collapsed.delete(id); refresh(); return !collapsed.has(id); }
  for (const [id, cluster] of clusters) {
    cluster.addEventListener("click", (event) => {
      event.stopPropagation();
      if (collapsed.has(id)) expand(id); else collapse(id);
    });
  }
  const topBlocks = data.groups.filter((group) => group.kind === "block" && group.parents.length === 0).map((group) => group.id);
  document.getElementById("collapse-all").addEventListener("click", () => { topBlocks.forEach((id) => collapsed.add(id)); refresh(); });
  document.getElementById("expand-all").addEventListener("click", () => { collapsed.clear(); refresh(); });

  // -- search: the table keeps the matching rows, the drawing marks their nodes
  const search = document.getElementById("search");
  function find(text) {
    const wanted = text.trim().toLowerCase();
    const matches = [];
    for (const layer of data.layers) {
      const match = wanted !== "" && (layer.name.toLowerCase().includes(wanted) || layer.kind.toLowerCase().includes(wanted));
      rows.get(layer.name).classList.toggle("filtered-out", wanted !== "" && !match);
      const node = nodes.get(layer.name);
      if (node) node.classList.toggle("match", match);
      if (match) matches.push(layer.name);
    }
    if (matches.length) select(matches[0], true);
    return matches;
  }
  search.addEventListener("input", () => find(search.value));

  // -- pan and zoom: the view box moves and scales; "Fit" shows the whole network
  const canvas = document.getElementById("canvas");
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  const whole = svg.viewBox.baseVal;
  let view = { x: whole.x, y: whole.y, width: whole.width, height: whole.height };
  const home = { ...view };
  function show() { svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.width} ${view.height}`); }
  function fit() { view = { ...home }; show(); }
  function opening() {
    // A tall network fitted whole would be too small to read: fill the canvas's width instead
    // (at most 1.5 drawing units a pixel) and start at the top; "Fit" shows all of it.
    const rect = canvas.getBoundingClientRect();
    if (!rect.width || !rect.height || home.height / home.width <= 2 * rect.height / rect.width) return fit();
    const width = Math.max(home.width, rect.width / 1.5);
    view = { x: home.x - (width - home.width) / 2, y: home.y, width, height: width * rect.height / rect.width };
    show();
  }
  function centreOn(node) {
    const box = node.getBBox();
    const matrix = node.getCTM() && svg.getCTM() ? svg.getCTM().inverse().multiply(node.getCTM()) : null;
    const x = matrix ? matrix.e + box.x * matrix.a : box.x;
    const y = matrix ? matrix.f + box.y * matrix.d : box.y;
    view.x = x + box.width / 2 - view.width / 2;
    view.y = y + box.height / 2 - view.height / 2;
    show();
  }
  document.getElementById("fit").addEventListener("click", fit);
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    const factor = event.deltaY > 0 ? 1.15 : 1 / 1.15;
    const rect = canvas.getBoundingClientRect();
    const fx = (event.clientX - rect.left) / rect.width, fy = (event.clientY - rect.top) / rect.height;
    const width = view.width * factor, height = view.height * factor;
    view = { x: view.x + (view.width - width) * fx, y: view.y + (view.height - height) * fy, width, height };
    show();
  }, { passive: false });
  let drag = null;
  canvas.addEventListener("mousedown", (event) => { drag = { x: event.clientX, y: event.clientY, view: { ...view } }; });
  window.addEventListener("mouseup", () => { drag = null; });
  window.addEventListener("mousemove", (event) => {
    if (!drag) return;
    const rect = canvas.getBoundingClientRect();
    view.x = drag.view.x - (event.clientX - drag.x) * view.width / rect.width;
    view.y = drag.view.y - (event.clientY - drag.y) * view.height / rect.height;
    show();
  });
  opening();

  // -- what a test (or a script in the console) can ask of the page
  const api = {
    select: (name) => { const layer = select(name, true); return layer && { params: layer.params, output_shape: layer.output_shape }; },
    click: (name) => {  // as a person clicks the node (or, where it is folded away, its table row)
      const target = nodes.get(name) && !hidden(name) ? nodes.get(name) : rows.get(name);
      target.dispatchEvent(new MouseEvent("click", { bubbles: true }));
      return selected;
    },
    details: () => Object.fromEntries([...document.querySelectorAll("#details dd")].map((dd) => [dd.dataset.field, dd.textContent])),
    collapse, expand,
    hidden: (name) => Boolean(nodes.get(name) && nodes.get(name).classList.contains("folded")),
    find, groups: () => data.groups.map((group) => group.id), layers: () => data.layers.map((layer) => layer.name),
    currentLine: () => { const line = source.querySelector(".line.current"); return line ? Number(line.dataset.line) : null; },
    resources: () => performance.getEntriesByType("resource").map((entry) => entry.name),  // what the page fetched: nothing
  };
  window.archspec = api;
  // `page.html#test=[["collapse","basic_1"],["hidden","basic_1_conv_1"]]`: run the steps, write the answers.
  if (location.hash.startsWith("#test=")) {
    const steps = JSON.parse(decodeURIComponent(location.hash.slice("#test=".length)));
    const answers = steps.map(([verb, ...args]) => { try { return api[verb](...args); } catch (error) { return `error: ${error}`; } });
    const results = document.getElementById("test-results");
    results.textContent = JSON.stringify(answers);
  }
  document.body.dataset.ready = "true";
})();
