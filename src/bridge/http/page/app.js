// The bridge's status page: one live snapshot (server-sent events from /events) drawn as cards, a
// uPlot chart per person and the accounts table. Plain browser JavaScript, no build step. Every text
// from the bridge goes in through textContent, never as HTML.
'use strict';

(function () {
  const MGDL_PER_MMOL = 18.0156;
  const DAY_S = 24 * 60 * 60;
  /** A line is broken where readings are further apart than this (a gap, not a straight line). */
  const GAP_S = 15 * 60;
  const token = new URLSearchParams(location.search).get('token');
  const withToken = (path) => (token ? `${path}?token=${encodeURIComponent(token)}` : path);
  const cards = new Map();
  let snapshot;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function inUnit(mgdl, unit) {
    return unit === 'mmol/L' ? Math.round((mgdl / MGDL_PER_MMOL) * 10) / 10 : mgdl;
  }

  function format(value, unit) {
    return unit === 'mmol/L' ? value.toFixed(1) : String(Math.round(value));
  }

  function age(iso) {
    const minutes = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60000));
    if (minutes < 1) return 'just now';
    if (minutes < 60) return `${minutes} min ago`;
    const hours = Math.floor(minutes / 60);
    return `${hours} h ${minutes % 60} min ago`;
  }

  function badge(text, kind) {
    return el('span', `badge ${kind}`, text);
  }

  // ---- one person's card -----------------------------------------------------------------------

  function makeCard(person) {
    const root = el('article', 'person');
    root.dataset.slug = person.slug;
    const title = el('h3');
    const name = el('span', 'name');
    const account = el('span', 'account muted');
    title.append(name, ' ', account);
    const now = el('div', 'now');
    const value = el('span', 'value');
    const unit = el('span', 'unit muted');
    const arrow = el('span', 'arrow');
    const delta = el('span', 'delta muted');
    const when = el('span', 'age muted');
    now.append(value, unit, arrow, delta, when);
    const badges = el('div', 'badges');
    const problem = el('p', 'problem-text');
    const chart = el('div', 'chart');
    const tir = el('div', 'tir');
    tir.setAttribute('aria-hidden', 'true');
    const stats = el('dl', 'stats');
    root.append(title, now, badges, problem, chart, tir, stats);
    return {
      root,
      name,
      account,
      value,
      unit,
      arrow,
      delta,
      when,
      badges,
      problem,
      chart,
      tir,
      stats,
      plot: null,
    };
  }

  function renderCard(card, person) {
    card.name.textContent = person.name;
    card.account.textContent = person.account === person.name ? '' : `(${person.account})`;
    const last = person.last;
    card.value.className = 'value';
    if (last) {
      card.value.textContent = last.limit ? last.limit.toUpperCase() : format(last.value, person.unit);
      card.value.dataset.value = String(last.value);
      card.value.dataset.mgdl = String(last.mgdl);
      if (person.urgentLow) card.value.classList.add('urgent');
      else if (person.low) card.value.classList.add('low');
      else if (person.high) card.value.classList.add('high');
      if (person.stale) card.value.classList.add('stale');
      card.unit.textContent = person.unit;
      card.arrow.textContent = last.arrow;
      card.arrow.title = last.trend;
      card.delta.textContent =
        person.delta === null
          ? ''
          : `${person.delta > 0 ? '+' : ''}${format(person.delta, person.unit)} / 5 min`;
      card.when.textContent = age(last.time);
      card.when.dataset.time = last.time;
    } else {
      card.value.textContent = '–';
      delete card.value.dataset.value;
      card.unit.textContent = '';
      card.arrow.textContent = '';
      card.delta.textContent = '';
      card.when.textContent = 'no reading yet';
      delete card.when.dataset.time;
    }
    card.badges.replaceChildren();
    if (person.urgentLow) card.badges.append(badge('URGENT LOW', 'urgent'));
    else if (person.low) card.badges.append(badge('LOW', 'low'));
    if (person.high) card.badges.append(badge('HIGH', 'high'));
    if (person.stale) card.badges.append(badge('STALE', 'stale'));
    if (person.problem) card.badges.append(badge(`PROBLEM: ${person.problem.code}`, 'problem'));
    if (card.badges.childElementCount === 0 && last) card.badges.append(badge('OK', 'ok'));
    card.problem.replaceChildren();
    if (person.problem) {
      card.problem.append(el('span', '', person.problem.message));
      if (person.problem.hint) card.problem.append(el('span', 'hint', ` (${person.problem.hint})`));
    }
    card.problem.hidden = !person.problem;
    renderChart(card, person);
    renderStats(card, person);
  }

  // ---- the chart ---------------------------------------------------------------------------------

  /** uPlot's columns: times, values (null breaks the line at a gap). */
  function chartData(person) {
    const xs = [];
    const ys = [];
    let previous;
    for (const [time, mgdl] of person.history) {
      if (previous !== undefined && time - previous > GAP_S) {
        xs.push(previous + 1);
        ys.push(null);
      }
      xs.push(time);
      ys.push(inUnit(mgdl, person.unit));
      previous = time;
    }
    return [xs, ys];
  }

  /** The target band (low–high) and the urgent-low line, drawn under the readings. */
  function bandPlugin(person) {
    const t = person.thresholds;
    return {
      hooks: {
        drawClear: [
          (u) => {
            const { ctx, bbox } = u;
            const y = (mgdl) => u.valToPos(inUnit(mgdl, person.unit), 'y', true);
            ctx.save();
            ctx.fillStyle = 'rgba(67, 160, 71, 0.13)';
            const top = y(t.high);
            ctx.fillRect(bbox.left, top, bbox.width, y(t.low) - top);
            const line = (mgdl, colour, dash) => {
              ctx.strokeStyle = colour;
              ctx.setLineDash(dash);
              ctx.lineWidth = 1;
              ctx.beginPath();
              ctx.moveTo(bbox.left, y(mgdl));
              ctx.lineTo(bbox.left + bbox.width, y(mgdl));
              ctx.stroke();
            };
            line(t.low, 'rgba(198, 40, 40, 0.7)', []);
            line(t.high, 'rgba(239, 108, 0, 0.7)', []);
            line(t.urgentLow, 'rgba(142, 0, 0, 0.8)', [4, 4]);
            ctx.restore();
          },
        ],
      },
    };
  }

  function renderChart(card, person) {
    const data = chartData(person);
    const points = data[1].filter((v) => v !== null).length;
    card.chart.dataset.points = String(points);
    // Nothing to draw yet (an account that has not found anyone, a first start): no empty frame.
    card.chart.hidden = points === 0;
    if (points === 0) return;
    const now = Date.parse(snapshot.now) / 1000;
    // The last 24 h, and from 40 mg/dL to 300 (or above the highest reading).
    card.rangeX = [now - DAY_S, now];
    card.rangeY = [
      inUnit(40, person.unit),
      inUnit(Math.max(300, ...person.history.map((h) => h[1])) + 10, person.unit),
    ];
    const key = `${person.unit}|${JSON.stringify(person.thresholds)}`;
    if (card.plot && card.plotKey === key) {
      card.plot.setData(data);
      return;
    }
    if (card.plot) card.plot.destroy();
    card.plotKey = key;
    const width = Math.max(280, card.chart.clientWidth || card.root.clientWidth - 32);
    card.plot = new uPlot(
      {
        width,
        height: 220,
        scales: { x: { time: true, range: () => card.rangeX }, y: { range: () => card.rangeY } },
        legend: { show: false },
        cursor: { y: false },
        plugins: [bandPlugin(person)],
        series: [
          {},
          {
            label: 'Glucose',
            stroke: '#1565c0',
            width: 1.5,
            spanGaps: false,
            points: { show: true, size: 4, fill: '#1565c0' },
          },
        ],
        axes: [{}, { label: person.unit, size: 50 }],
      },
      data,
      card.chart,
    );
  }

  // ---- the statistics ----------------------------------------------------------------------------

  function renderStats(card, person) {
    const s = person.statistics;
    card.tir.replaceChildren();
    card.stats.replaceChildren();
    card.tir.hidden = !s || s.percentInRange === null;
    card.stats.hidden = !s;
    if (!s) return;
    if (s.percentInRange !== null) {
      const parts = [
        ['verylow', s.percentBelow54],
        ['low', s.percentBelow70 - s.percentBelow54],
        ['range', s.percentInRange],
        ['high', s.percentAbove180 - s.percentAbove250],
        ['veryhigh', s.percentAbove250],
      ];
      for (const [kind, percent] of parts) {
        const part = el('span', kind);
        part.style.width = `${Math.max(0, percent)}%`;
        card.tir.append(part);
      }
    }
    const mmol = person.unit === 'mmol/L';
    const pct = (v) => (v === null ? '–' : `${v.toFixed(1)} %`);
    const glucose = (v) =>
      v === null ? '–' : `${format(inUnit(v, person.unit), person.unit)} ${person.unit}`;
    const rows = [
      [`In range ${mmol ? '3.9–10.0' : '70–180'}`, pct(s.percentInRange), 'percentInRange'],
      [`Below ${mmol ? '3.9' : '70'}`, pct(s.percentBelow70), 'percentBelow70'],
      [`Below ${mmol ? '3.0' : '54'}`, pct(s.percentBelow54), 'percentBelow54'],
      [`Above ${mmol ? '10.0' : '180'}`, pct(s.percentAbove180), 'percentAbove180'],
      [`Above ${mmol ? '13.9' : '250'}`, pct(s.percentAbove250), 'percentAbove250'],
      ['Mean', glucose(s.meanMgdl), 'meanMgdl'],
      ['SD', glucose(s.sdMgdl), 'sdMgdl'],
      ['CV', pct(s.cv), 'cv'],
      ['Coverage', `${Math.round(s.coverage * 100)} %`, 'coverage'],
    ];
    for (const [label, text, field] of rows) {
      const wrap = el('div');
      const value = el('dd', '', text);
      value.dataset.field = field;
      wrap.append(el('dt', '', label), value);
      card.stats.append(wrap);
    }
  }

  // ---- the whole page ----------------------------------------------------------------------------

  function renderAccounts(accounts) {
    const body = document.querySelector('#accounts tbody');
    body.replaceChildren();
    for (const account of accounts) {
      const row = el('tr');
      row.dataset.account = account.name;
      const state = el('td');
      if (account.problem) {
        state.append(badge(account.problem.code, 'problem'), ' ', el('span', '', account.problem.message));
        if (account.problem.hint) state.append(el('div', 'hint', account.problem.hint));
      } else state.append(badge('OK', 'ok'));
      const lastError = el('td');
      const last = account.lastError;
      if (last && !last.current) {
        lastError.append(el('span', '', `${last.code} (over): ${last.message}`));
        if (last.hint) lastError.append(el('div', 'hint', last.hint));
      } else if (!last) lastError.append(el('span', 'muted', 'none'));
      else lastError.append(el('span', 'muted', 'see state'));
      row.append(el('td', '', account.name), el('td', '', account.provider), state, lastError);
      body.append(row);
    }
  }

  function render(next) {
    snapshot = next;
    document.getElementById('connecting').hidden = true;
    const mqtt = document.getElementById('mqtt');
    mqtt.className = `badge ${next.mqtt.connected ? 'ok' : 'down'}`;
    mqtt.textContent = next.mqtt.connected ? 'MQTT connected' : 'MQTT disconnected';
    mqtt.title = `${next.mqtt.broker}${next.mqtt.queue ? `, ${next.mqtt.queue} waiting` : ''}`;
    mqtt.dataset.connected = String(next.mqtt.connected);
    document.getElementById('version').textContent = `GlucoBridge ${next.version}`;
    document.getElementById('updated').textContent = `updated ${new Date(next.now).toLocaleTimeString()}`;
    const container = document.getElementById('people');
    const seen = new Set();
    for (const person of next.people) {
      seen.add(person.slug);
      let card = cards.get(person.slug);
      if (!card) {
        card = makeCard(person);
        cards.set(person.slug, card);
      }
      container.append(card.root);
      renderCard(card, person);
    }
    for (const [slug, card] of cards) {
      if (seen.has(slug)) continue;
      if (card.plot) card.plot.destroy();
      card.root.remove();
      cards.delete(slug);
    }
    renderAccounts(next.accounts);
  }

  function connect() {
    if (typeof EventSource === 'undefined') return poll();
    const events = new EventSource(withToken('events'));
    events.addEventListener('status', (message) => render(JSON.parse(message.data)));
    // The browser reconnects by itself; the next snapshot puts the MQTT state back.
    events.onerror = () => {
      const mqtt = document.getElementById('mqtt');
      mqtt.className = 'badge down';
      mqtt.textContent = events.readyState === EventSource.CLOSED ? 'bridge unreachable' : 'reconnecting…';
    };
  }

  function poll() {
    fetch(withToken('api/status'), { cache: 'no-store' })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
      .then(render)
      .catch(() => undefined)
      .finally(() => setTimeout(poll, 15000));
  }

  // Ages move on between snapshots.
  setInterval(() => {
    for (const card of cards.values())
      if (card.when.dataset.time) card.when.textContent = age(card.when.dataset.time);
  }, 10000);
  window.addEventListener('resize', () => {
    for (const card of cards.values())
      if (card.plot) card.plot.setSize({ width: Math.max(280, card.chart.clientWidth), height: 220 });
  });
  connect();
})();
