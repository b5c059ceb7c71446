// The cockpit's charts: canary against stable, one point a minute, drawn as inline SVG by this
// file (no library: about 200 lines do what the page needs, load nothing from elsewhere and live
// under the strict CSP with presentation attributes and classes only). Each chart carries a data
// table beside it, which is also its text alternative. Lines differ by dash and marker as well
// as colour, and the threshold is labelled in words, so nothing is told by colour alone.
import { el, fill, hhmm, measured, svg } from './cockpit-dom.js';

const HEIGHT = 190;
const PAD = { left: 46, right: 10, top: 14, bottom: 24 };
// Line styles by series: cohorts first, then config versions in the order they appear.
const STYLES = [
  { className: 'line-a', dash: null, marker: 'circle' },
  { className: 'line-b', dash: '6 4', marker: 'square' },
  { className: 'line-c', dash: '2 3', marker: 'diamond' },
  { className: 'line-d', dash: '10 3 2 3', marker: 'circle' },
];
const ACTION_LETTER = {
  abort: 'A',
  kill: 'K',
  unkill: 'K',
  undo: 'U',
  pause: 'P',
  resume: 'R',
  promote: 'Pr',
  finalize: 'F',
  'set-percent': 'S',
  'set-flag': 'Fl',
  'replace-config': 'C',
};

/**
 * Draws every panel of a GET /series answer into `box` (replacing what was there), at the box's
 * current width; called again when the width changes.
 */
export function renderCharts(box, series) {
  if (!series) return fill(box, el('p', { class: 'muted' }, 'Loading the charts…'));
  if (!series.available) return fill(box, el('p', { class: 'empty' }, `No charts: ${series.reason}.`));
  // Drawn at the size shown, so the text is never scaled down: half the box beside its table
  // (cockpit.css puts them side by side above 900 px), else the whole box.
  const column = innerWidth > 900 ? box.clientWidth / 2 - 8 : box.clientWidth - 4;
  const width = Math.round(Math.max(260, Math.min(720, column || 600)));
  fill(
    box,
    el(
      'p',
      { class: 'muted' },
      `Last ${series.minutes.length} minutes, one point a minute, read at ${hhmm(Date.parse(series.readAt))}. `,
      'Lines: ',
      el('span', { class: 'key key-a' }, 'canary (solid, dots)'),
      ', ',
      el('span', { class: 'key key-b' }, 'stable (dashed, squares)'),
      '; dotted red: the threshold; grey marks: audit events (A abort, K kill, U undo, S set percent; the table names each).',
    ),
    series.panels.map((panel) => chartFigure(panel, series, width)),
  );
}

function chartFigure(panel, series, width) {
  const id = `chart-${panel.id}`;
  const heading = el('h3', { id: `${id}-title` }, panel.title);
  if (panel.empty)
    return el(
      'section',
      { class: 'chart', 'aria-labelledby': `${id}-title`, 'data-panel': panel.id },
      heading,
      el('p', { class: 'empty' }, `Nothing to draw: ${panel.empty}.`),
    );
  return el(
    'section',
    { class: 'chart', 'aria-labelledby': `${id}-title`, 'data-panel': panel.id },
    heading,
    el('div', { class: 'chart-body' }, drawChart(panel, series, width, id), dataTable(panel, series, id)),
  );
}

function drawChart(panel, series, width, id) {
  const names = Object.keys(panel.lines);
  const count = series.minutes.length;
  const values = names.flatMap((name) => panel.lines[name].filter((v) => v !== null));
  const ceiling = niceCeiling(
    Math.max(...values, panel.threshold ? panel.threshold.value * 1.15 : 0, panel.unit === '%' ? 1 : 10),
  );
  // Shares never pass 100 %: the scale stops there even when a threshold sits near it.
  const top = panel.unit === '%' && ceiling > 100 && Math.max(...values) <= 100 ? 100 : ceiling;
  const plotW = width - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + (count > 1 ? (i * plotW) / (count - 1) : plotW / 2);
  const y = (v) => PAD.top + plotH - (Math.min(v, top) / top) * plotH;
  const parts = [
    svg('title', { id: `${id}-svg-title` }, `${panel.title}: ${names.join(' and ')}, per minute`),
    svg('desc', { id: `${id}-svg-desc` }, summary(panel, names)),
  ];
  for (const fraction of [0, 0.5, 1]) {
    const value = top * fraction;
    parts.push(
      svg('line', { x1: PAD.left, x2: width - PAD.right, y1: y(value), y2: y(value), class: 'grid' }),
      svg(
        'text',
        { x: PAD.left - 4, y: y(value) + 4, class: 'tick', 'text-anchor': 'end' },
        axisLabel(value, panel.unit),
      ),
    );
  }
  for (const i of [0, Math.round((count - 1) / 2), count - 1])
    parts.push(
      svg(
        'text',
        {
          x: x(i),
          y: HEIGHT - 6,
          class: 'tick',
          'text-anchor': i === 0 ? 'start' : i === count - 1 ? 'end' : 'middle',
        },
        hhmm(series.minutes[i] * 1000),
      ),
    );
  // Marks of one minute share a line: their letters joined, each named in the line's title.
  const byMinute = new Map();
  for (const mark of series.marks) byMinute.set(mark.index, [...(byMinute.get(mark.index) ?? []), mark]);
  for (const [index, marks] of byMinute)
    parts.push(
      svg(
        'g',
        { class: 'mark' },
        svg(
          'title',
          {},
          marks
            .map(
              (mark) =>
                `${mark.action} by ${mark.actor} at ${hhmm(Date.parse(mark.at))} (v${mark.version})${mark.reason ? `: ${mark.reason}` : ''}`,
            )
            .join('\n'),
        ),
        svg('line', { x1: x(index), x2: x(index), y1: PAD.top, y2: PAD.top + plotH }),
        svg(
          'text',
          { x: x(index) - 2, y: PAD.top - 3, class: 'tick', 'text-anchor': 'end' },
          marks.map((mark) => ACTION_LETTER[mark.action] ?? '•').join(' '),
        ),
      ),
    );
  if (panel.threshold)
    parts.push(
      svg('line', {
        x1: PAD.left,
        x2: width - PAD.right,
        y1: y(panel.threshold.value),
        y2: y(panel.threshold.value),
        class: 'threshold',
      }),
      svg(
        'text',
        {
          x: width - PAD.right - 2,
          y: y(panel.threshold.value) - 4,
          class: 'tick threshold-label',
          'text-anchor': 'end',
        },
        panel.threshold.label,
      ),
    );
  names.forEach((name, n) => {
    const style = STYLES[n % STYLES.length];
    let d = '';
    let pen = false;
    const points = [];
    panel.lines[name].forEach((value, i) => {
      if (value === null) return void (pen = false);
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(value).toFixed(1)}`;
      pen = true;
      points.push([x(i), y(value)]);
    });
    parts.push(
      svg(
        'g',
        { class: `series ${style.className}` },
        svg('path', { d, fill: 'none', 'stroke-dasharray': style.dash ?? undefined }),
        points.map(([px, py]) => marker(style.marker, px, py)),
      ),
    );
  });
  return svg(
    'svg',
    {
      width,
      height: HEIGHT,
      viewBox: `0 0 ${width} ${HEIGHT}`,
      role: 'img',
      'aria-labelledby': `${id}-svg-title`,
      'aria-describedby': `${id}-svg-desc`,
      class: 'plot',
    },
    parts,
  );
}

function marker(shape, px, py) {
  if (shape === 'square') return svg('rect', { x: px - 3, y: py - 3, width: 6, height: 6 });
  if (shape === 'diamond')
    return svg('path', { d: `M${px},${py - 4}L${px + 4},${py}L${px},${py + 4}L${px - 4},${py}Z` });
  return svg('circle', { cx: px, cy: py, r: 3 });
}

/** The chart in one sentence: the latest value of each line, and the threshold. */
function summary(panel, names) {
  const latest = names.map((name) => {
    const line = panel.lines[name];
    for (let i = line.length - 1; i >= 0; i--)
      if (line[i] !== null) return `${name} ${measured(line[i], panel.unit)}`;
    return `${name} no data`;
  });
  return `Latest: ${latest.join(', ')}.${panel.threshold ? ` Threshold: ${panel.threshold.label}.` : ''} The data table beside it lists every minute.`;
}

/** Every minute, newest first: each line's value and what it was computed from, the threshold, the audit events. */
function dataTable(panel, series, id) {
  const names = Object.keys(panel.lines);
  const marksAt = new Map();
  for (const mark of series.marks)
    marksAt.set(mark.index, [...(marksAt.get(mark.index) ?? []), `${mark.action} by ${mark.actor}`]);
  const rows = [];
  for (let i = series.minutes.length - 1; i >= 0; i--)
    rows.push(
      el(
        'tr',
        { 'data-minute': series.minutes[i] },
        el('th', { scope: 'row' }, hhmm(series.minutes[i] * 1000)),
        names.map((name) => el('td', { 'data-line': name }, measured(panel.lines[name][i], panel.unit))),
        names.map((name) => el('td', { 'data-samples': name }, String(Math.round(panel.samples[name][i])))),
        el('td', {}, panel.threshold ? axisLabel(panel.threshold.value, panel.unit) : '–'),
        el('td', {}, (marksAt.get(i) ?? []).join('; ')),
      ),
    );
  return el(
    'div',
    { class: 'scroll table-box', tabindex: 0, role: 'region', 'aria-labelledby': `${id}-caption` },
    el(
      'table',
      { class: 'data' },
      el('caption', { id: `${id}-caption` }, `${panel.title} per minute (data)`),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { scope: 'col' }, 'minute'),
          names.map((name) => el('th', { scope: 'col' }, name)),
          names.map((name) => el('th', { scope: 'col' }, `${name} n`)),
          el('th', { scope: 'col' }, 'threshold'),
          el('th', { scope: 'col' }, 'events'),
        ),
      ),
      el('tbody', {}, rows),
    ),
  );
}

function axisLabel(value, unit) {
  return `${Number(value.toFixed(value < 10 ? 2 : 0))} ${unit}`;
}

/** 1, 2 or 5 times a power of ten, at least `value`. */
function niceCeiling(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}
