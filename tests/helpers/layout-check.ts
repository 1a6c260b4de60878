/**
 * Layout checks run inside the dashboard's page (page.evaluate): text overflowing its box, select
 * boxes too narrow for their chosen option, label/value pairs out of line, words broken across
 * lines, and boxes drawn over plotted points. Each returns a list of problems (empty: none), named
 * by the panel and element, so a failing test says where.
 */

/** Every problem of the page's panels (`.card`, the top bar) at the current viewport width. */
export function layoutProblems(): string[] {
  const out: string[] = [];
  const describe = (el: Element): string => {
    const card = el.closest('.card, header');
    const title = card?.querySelector('h2, h3')?.textContent?.trim().slice(0, 30) ?? card?.id ?? '';
    const id = el.id ? `#${el.id}` : '';
    const cls =
      typeof el.className === 'string' && el.className ? `.${el.className.split(' ')[0]}` : '';
    const text = (el.textContent ?? '').trim().slice(0, 40);
    return `[${title}] ${el.tagName.toLowerCase()}${id}${cls} "${text}"`;
  };
  const visible = (el: Element): boolean => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  };
  const elements = Array.from(document.querySelectorAll('#app *')).filter(
    (el) => !(el instanceof SVGElement) && visible(el),
  );
  for (const el of elements) {
    const h = el as HTMLElement;
    // Content wider than its box: overflowing, cut off by overflow:hidden/ellipsis, or scrolled.
    if (
      h.clientWidth > 0 &&
      h.scrollWidth > h.clientWidth + 1 &&
      !(el instanceof HTMLSelectElement)
    ) {
      out.push(`${describe(el)}: content ${h.scrollWidth}px wide in a ${h.clientWidth}px box`);
    }
  }
  // Every box stays inside its panel.
  for (const card of Array.from(document.querySelectorAll('.card'))) {
    if (!visible(card)) continue;
    const c = card.getBoundingClientRect();
    for (const el of Array.from(card.querySelectorAll('*'))) {
      if (el instanceof SVGElement && !(el instanceof SVGSVGElement)) continue;
      if (!visible(el) || el.closest('.table-wrap')) continue;
      const r = el.getBoundingClientRect();
      if (r.left < c.left - 1 || r.right > c.right + 1) {
        out.push(
          `${describe(el)}: sticks out of its panel (${Math.round(r.left)}-${Math.round(r.right)} in ${Math.round(c.left)}-${Math.round(c.right)})`,
        );
      }
    }
  }
  // A select box shows its chosen option whole.
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d')!;
  for (const select of Array.from(document.querySelectorAll<HTMLSelectElement>('#app select'))) {
    if (!visible(select)) continue;
    const style = getComputedStyle(select);
    ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const chosen = select.selectedOptions[0]?.textContent ?? '';
    const room =
      select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 18;
    const need = ctx.measureText(chosen).width;
    if (need > room) {
      out.push(
        `${describe(select)}: option "${chosen}" needs ${Math.round(need)}px, has ${Math.round(room)}px`,
      );
    }
  }
  // Label/value pairs: each value directly under its own label.
  for (const fact of Array.from(document.querySelectorAll('dl.facts .fact'))) {
    if (!visible(fact)) continue;
    const dt = fact.querySelector('dt');
    const dd = fact.querySelector('dd');
    if (!dt || !dd) {
      out.push(`${describe(fact)}: a label without its value`);
      continue;
    }
    const a = dt.getBoundingClientRect();
    const b = dd.getBoundingClientRect();
    if (Math.abs(a.left - b.left) > 1 || b.top < a.bottom - 1) {
      out.push(
        `${describe(fact)}: value "${dd.textContent}" not under its label "${dt.textContent}"`,
      );
    }
  }
  for (const dl of Array.from(document.querySelectorAll('dl'))) {
    for (const child of Array.from(dl.children)) {
      if (child.tagName === 'DT' || child.tagName === 'DD') {
        out.push(`${describe(dl)}: a bare ${child.tagName} in the grid (pairs go in div.fact)`);
      }
    }
  }
  return out;
}

/** Words of `selector`'s text split across two lines (an operation's name broken mid-word). */
export function brokenWords(selector: string): string[] {
  const el = document.querySelector(selector);
  if (!el || !el.firstChild) return [`${selector}: not found`];
  const text = el.textContent ?? '';
  const out: string[] = [];
  const node = el.firstChild.nodeType === Node.TEXT_NODE ? el.firstChild : el.firstChild.firstChild;
  if (!node) return [`${selector}: no text`];
  for (const m of text.matchAll(/[A-Za-z_0-9]+/g)) {
    const range = document.createRange();
    range.setStart(node, m.index);
    range.setEnd(node, m.index + m[0].length);
    const tops = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
    if (tops.size > 1) out.push(`"${m[0]}" broken across lines`);
  }
  return out;
}

/** Points of the scatter that a box (the legend, say) covers. */
export function pointsUnder(boxSelector: string): number {
  const boxes = Array.from(document.querySelectorAll(boxSelector)).map((b) =>
    b.getBoundingClientRect(),
  );
  let n = 0;
  for (const dot of Array.from(document.querySelectorAll('#scatter circle.dot'))) {
    const d = dot.getBoundingClientRect();
    for (const b of boxes) {
      if (d.left < b.right && b.left < d.right && d.top < b.bottom && b.top < d.bottom) n += 1;
    }
  }
  return n;
}
