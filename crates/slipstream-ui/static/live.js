// The run page of a run that is not over: polls its op states (`<main data-live=URL>`) and
// updates the DAG, the ops table and the run's badge in place; when the run is over, reloads
// once to show everything it recorded, and stops (the page of an ended run has no script).
// A run that is gone (404, 410) stops it too; other failures ask again, less often.
(() => {
  "use strict";
  const main = document.querySelector("main[data-live]");
  if (!main) return;
  const url = main.dataset.live;
  const every = Number(main.dataset.interval || 2000);
  const badge = (status) => {
    const span = document.createElement("span");
    span.className = "badge s-" + status;
    span.textContent = status;
    return span;
  };
  const swap = (root, selector, status) => {
    const old = root && root.querySelector(selector);
    if (old) old.replaceWith(badge(status));
  };
  const text = (root, selector, value) => {
    const cell = root.querySelector(selector);
    if (cell) cell.textContent = value;
  };
  function show(state) {
    for (const [name, op] of Object.entries(state.ops)) {
      const quoted = CSS.escape(name);
      const node = document.querySelector(`svg.dag a[data-op="${quoted}"]`);
      if (node) node.setAttribute("data-status", op.status);
      const row = document.querySelector(`#ops tr[data-op="${quoted}"]`);
      if (!row) continue;
      swap(row, "td.status .badge", op.status);
      text(row, "td.tries", String(op.tries));
      text(row, "td.duration", op.duration);
    }
    swap(document.getElementById("run-status"), ".badge", state.status);
    main.dataset.polls = String(Number(main.dataset.polls || 0) + 1);
  }
  async function poll() {
    let next = every;
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (response.status === 404 || response.status === 410) {
        main.dataset.liveError = "this run is gone from the store";
        return;
      }
      if (!response.ok) throw new Error("HTTP " + response.status);
      const state = await response.json();
      show(state);
      if (state.over) {
        location.reload();
        return;
      }
      delete main.dataset.liveError;
    } catch (error) {
      main.dataset.liveError = String(error);
      next = every * 3;
    }
    setTimeout(poll, next);
  }
  setTimeout(poll, every);
})();
