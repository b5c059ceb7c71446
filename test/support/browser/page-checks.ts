import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/**
 * Accessibility checks run in the page, standing in for axe-core (not a dependency of this
 * repository yet). Each finding is a sentence naming the element; an empty list passes. They
 * cover what axe's serious and critical rules would find on this page: controls and regions
 * without a name, charts without a text alternative, scrollable boxes the keyboard cannot reach,
 * text below 4.5:1 contrast, and ids used twice.
 */
export async function accessibilityFindings(page: Page): Promise<string[]> {
  // A string, evaluated in the page: the test's own types have no DOM.
  return (await page.evaluate(`(() => {
    const findings = [];
    const visible = (node) => node.getClientRects().length > 0 && getComputedStyle(node).visibility !== 'hidden';
    const describe = (node) => node.tagName.toLowerCase() + (node.id ? '#' + node.id : '') + (node.className && typeof node.className === 'string' ? '.' + node.className.split(' ').join('.') : '');
    const nameOf = (node) => {
      const labelledby = node.getAttribute('aria-labelledby');
      if (labelledby) return labelledby.split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim();
      if (node.getAttribute('aria-label')) return node.getAttribute('aria-label').trim();
      if (node.id) { const label = document.querySelector('label[for="' + node.id + '"]'); if (label) return label.textContent.trim(); }
      return (node.textContent ?? '').trim();
    };
    for (const node of document.querySelectorAll('button, input, select, textarea, a[href]'))
      if (visible(node) && !nameOf(node)) findings.push('control without a name: ' + describe(node));
    for (const node of document.querySelectorAll('svg'))
      if (visible(node) && (node.getAttribute('role') !== 'img' || !nameOf(node))) findings.push('chart without a text alternative: ' + describe(node));
    for (const node of document.querySelectorAll('[role=region], section[aria-labelledby]'))
      if (visible(node) && !nameOf(node)) findings.push('region without a name: ' + describe(node));
    for (const node of document.querySelectorAll('*')) {
      if (!visible(node) || node.closest('svg')) continue;
      const style = getComputedStyle(node);
      const scrolls = (/(auto|scroll)/.test(style.overflowX) && node.scrollWidth > node.clientWidth + 1) || (/(auto|scroll)/.test(style.overflowY) && node.scrollHeight > node.clientHeight + 1);
      if (scrolls && node !== document.documentElement && node !== document.body && node.tabIndex < 0) findings.push('scrollable box the keyboard cannot reach: ' + describe(node));
    }
    const ids = new Map();
    for (const node of document.querySelectorAll('[id]')) ids.set(node.id, (ids.get(node.id) ?? 0) + 1);
    for (const [id, count] of ids) if (count > 1) findings.push('id used ' + count + ' times: ' + id);
    const rgb = (text) => (text.match(/[\\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const background = (node) => {
      for (let at = node; at; at = at.parentElement) {
        const color = rgb(getComputedStyle(at).backgroundColor);
        if (color.length === 3 || (color.length === 4 && color[3] === 1)) return color.slice(0, 3);
      }
      return [255, 255, 255];
    };
    for (const node of document.querySelectorAll('body *')) {
      if (!visible(node) || node.closest('svg') || node.closest('button:disabled')) continue;
      const own = [...node.childNodes].some((child) => child.nodeType === 3 && child.textContent.trim());
      if (!own) continue;
      const fg = luminance(rgb(getComputedStyle(node).color));
      const bg = luminance(background(node));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < 4.5) findings.push('contrast ' + ratio.toFixed(2) + ':1 below 4.5:1: ' + describe(node) + ' "' + node.textContent.trim().slice(0, 40) + '"');
    }
    return findings;
  })()`)) as string[];
}

/** Whether anything is wider than the viewport (the page would scroll sideways). */
export async function horizontalOverflow(
  page: Page,
): Promise<{ scroll: number; viewport: number; widest: string[] }> {
  return (await page.evaluate(`(() => {
    const viewport = window.innerWidth;
    const widest = [];
    for (const node of document.querySelectorAll('body *')) {
      const box = node.getBoundingClientRect();
      if (box.width > 0 && box.right > viewport + 0.5 && !node.closest('.scroll')) widest.push(node.tagName.toLowerCase() + (node.id ? '#' + node.id : '') + ' right=' + Math.round(box.right));
    }
    return { scroll: document.documentElement.scrollWidth, viewport, widest: widest.slice(0, 5) };
  })()`)) as { scroll: number; viewport: number; widest: string[] };
}

/**
 * axe-core's serious and critical violations on the page, as `rule: targets`. axe is evaluated in
 * the page through the DevTools protocol, which the page's strict CSP does not govern, so the
 * cockpit's own policy needs no exception for the test.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  return (await page.evaluate(`(async () => {
    const { violations } = await window.axe.run(document, { resultTypes: ['violations'] });
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', '));
  })()`)) as string[];
}
