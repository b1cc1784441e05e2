// The live page: polls the run list once a second, updates the rows in place, and reloads the selected run's
// figures (server-drawn SVG) only when the run has changed. No library; the page works without it, just not live.
(function () {
  'use strict';
  var body = document.querySelector('#runs tbody');
  var figures = document.getElementById('figures');
  var heading = document.getElementById('run-heading');
  var status = document.getElementById('status');
  var announce = document.getElementById('announce');
  var selected = figures.getAttribute('data-run') || null;
  var shown = Number(figures.getAttribute('data-version') || -1);
  var step = null; // null: the latest checkpoint
  var loading = false;
  var versions = {}; // run id -> version, from the last poll

  function cell(tr, i) { return tr.children[i]; }

  function row(run) {
    var tr = body.querySelector('tr[data-run="' + CSS.escape(run.runId) + '"]');
    if (!tr) {
      tr = document.createElement('tr');
      tr.setAttribute('data-run', run.runId);
      var th = document.createElement('th');
      th.scope = 'row';
      var a = document.createElement('a');
      a.href = '?run=' + encodeURIComponent(run.runId);
      a.setAttribute('data-run', run.runId);
      a.textContent = run.runId;
      th.appendChild(a);
      tr.appendChild(th);
      for (var i = 0; i < 5; i++) {
        var td = document.createElement('td');
        if (i === 1 || i === 4) { td.className = 'num'; }
        tr.appendChild(td);
      }
      var empty = body.querySelector('tr.empty');
      if (empty) { empty.remove(); }
      body.appendChild(tr);
    }
    var text = [run.task, String(run.epoch), run.phase, run.lastAlert || '-',
      run.lagSeconds == null ? '-' : (run.lagSeconds * 1000).toFixed(0) + ' ms'];
    if (tr.hasAttribute('data-seen') && cell(tr, 4).textContent !== text[3]) {
      announce.textContent = run.runId + ': ' + text[3]; // a new alert, said once by screen readers
    }
    tr.setAttribute('data-seen', '');
    for (var j = 0; j < text.length; j++) {
      if (cell(tr, j + 1).textContent !== text[j]) { cell(tr, j + 1).textContent = text[j]; }
    }
    tr.setAttribute('aria-current', run.runId === selected ? 'true' : 'false');
  }

  function load(version) {
    if (!selected || loading) { return Promise.resolve(); }
    loading = true;
    var url = 'figures?run=' + encodeURIComponent(selected) + (step == null ? '' : '&step=' + step);
    return fetch(url, {cache: 'no-store'}).then(function (r) { return r.text(); }).then(function (html) {
      var focused = document.activeElement && document.activeElement.id === 'checkpoint';
      var open = Array.prototype.map.call(figures.querySelectorAll('details[open]'), function (d) {
        return d.parentElement.id;
      });
      figures.innerHTML = html;
      open.forEach(function (id) {
        var d = id && document.getElementById(id) && document.getElementById(id).querySelector('details');
        if (d) { d.open = true; }
      });
      figures.setAttribute('data-run', selected);
      figures.setAttribute('data-version', String(version));
      shown = version;
      heading.textContent = selected;
      if (focused) { document.getElementById('checkpoint').focus(); }
    }).finally(function () { loading = false; });
  }

  function poll() {
    fetch('api/runs', {cache: 'no-store'}).then(function (r) { return r.json(); }).then(function (data) {
      data.runs.forEach(function (r) { versions[r.runId] = r.version; row(r); });
      if (!selected && data.runs.length) { select(data.runs[0].runId); }
      var current = data.runs.filter(function (r) { return r.runId === selected; })[0];
      status.textContent = data.runs.length + (data.runs.length === 1 ? ' run' : ' runs') + ', updated '
        + new Date().toLocaleTimeString();
      if (current && current.version !== shown) { return load(current.version); }
    }).catch(function () {
      status.textContent = 'cannot reach the server; retrying';
    }).finally(function () { setTimeout(poll, 1000); });
  }

  function select(runId) {
    selected = runId;
    step = null;
    shown = -1;
    history.replaceState(null, '', '?run=' + encodeURIComponent(runId));
    body.querySelectorAll('tr[data-run]').forEach(function (tr) {
      tr.setAttribute('aria-current', tr.getAttribute('data-run') === runId ? 'true' : 'false');
    });
    heading.textContent = runId;
  }

  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a[data-run]');
    if (!a) { return; }
    e.preventDefault();
    select(a.getAttribute('data-run'));
    load(versions[selected] == null ? -1 : versions[selected]).then(function () { heading.focus(); });
  });
  document.addEventListener('change', function (e) {
    if (e.target.id !== 'checkpoint') { return; }
    step = e.target.value === '' ? null : e.target.value;
    load(versions[selected] == null ? shown : versions[selected]);
  });
  setTimeout(poll, 1000);
}());
