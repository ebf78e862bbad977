"""Measurements made inside the page: target sizes, labels beside their boxes, chart labels
within their charts and large enough to read, and the focus indicator."""

SMALL_TARGETS = """(minimum) => {
  const small = [];
  for (const el of document.querySelectorAll("a[href], button, input:not([type=hidden]), summary, select, textarea")) {
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || el.closest("[hidden], [inert]")) continue;
    let box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;                  // not rendered
    if (box.right < 0 || box.bottom < 0 || box.left > innerWidth * 4) continue;  // parked off-screen (skip link)
    if (el.closest(".visually-hidden")) continue;
    // WCAG 2.5.8 "inline": a link inside a sentence is sized by the line of text it sits in.
    if (el.tagName === "A" && style.display === "inline") {
      const block = el.parentElement.closest("p, li, dd, td, figcaption, label, h1, h2, h3, h4");
      if (block && block.textContent.trim() !== el.textContent.trim()) continue;
    }
    // A checkbox or radio button is operated through its label as well.
    if ((el.type === "checkbox" || el.type === "radio") && el.labels && el.labels.length) {
      const l = el.labels[0].getBoundingClientRect();
      box = {width: Math.max(box.right, l.right) - Math.min(box.left, l.left),
             height: Math.max(box.bottom, l.bottom) - Math.min(box.top, l.top)};
    }
    if (box.width < minimum - 0.5 || box.height < minimum - 0.5) {
      const name = (el.getAttribute("aria-label") || el.textContent || el.value || el.name || "").trim().slice(0, 30);
      small.push(`${el.tagName.toLowerCase()} "${name}" ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return small;
}"""

# Checkboxes and radio buttons whose own label has slid off their line (above or below them),
# so the box no longer reads with its words.
LABELS_APART = """() => {
  const apart = [];
  for (const el of document.querySelectorAll("input[type=checkbox], input[type=radio]")) {
    if (!el.labels || !el.labels.length || el.closest("[hidden], [inert], .visually-hidden")) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || getComputedStyle(el).visibility === "hidden") continue;
    const label = el.labels[0];
    if (label.contains(el)) continue;
    const l = label.getBoundingClientRect();
    if (l.top >= box.bottom || l.bottom <= box.top) {
      apart.push(`${el.type} "${label.textContent.trim().slice(0, 30)}"`);
    }
  }
  return apart;
}"""

# Chart labels that run past the edge of their chart, where the SVG cuts them off.
CLIPPED_CHART_TEXT = """() => {
  const clipped = [];
  for (const svg of document.querySelectorAll("svg.chart-svg")) {
    const frame = svg.getBoundingClientRect();
    if (frame.width === 0) continue;
    for (const text of svg.querySelectorAll("text")) {
      const box = text.getBoundingClientRect();
      if (box.width === 0) continue;
      if (box.left < frame.left - 1 || box.right > frame.right + 1) {
        clipped.push(`${svg.closest("figure") ? svg.closest("figure").id : "chart"}: "${text.textContent.slice(0, 30)}"`);
      }
    }
  }
  return clipped;
}"""

# Chart labels drawn smaller than ``minimum`` pixels: a chart scaled down to a phone's width
# shrinks its text with it.
SMALL_CHART_TEXT = """(minimum) => {
  const small = [];
  for (const svg of document.querySelectorAll("svg.chart-svg")) {
    const frame = svg.getBoundingClientRect();
    if (frame.width === 0) continue;
    const scale = frame.width / svg.viewBox.baseVal.width;
    for (const text of svg.querySelectorAll("text")) {
      const size = parseFloat(getComputedStyle(text).fontSize) * scale;
      if (size < minimum) {
        small.push(`"${text.textContent.slice(0, 20)}" ${size.toFixed(1)}px`);
        break;  // one per chart tells enough
      }
    }
  }
  return small;
}"""

# Breadcrumbs whose steps do not sit on one line: a link is a 44 px target, the current
# page plain text, and their words must still line up.
CROOKED_BREADCRUMBS = """() => {
  const crooked = [];
  for (const trail of document.querySelectorAll(".breadcrumbs ol")) {
    const middles = [...trail.children].map(li => {
      const range = document.createRange();
      range.selectNodeContents(li);
      const box = [...range.getClientRects()].pop();
      return box ? box.top + box.height / 2 : null;
    }).filter(m => m !== null);
    if (middles.length > 1 && Math.max(...middles) - Math.min(...middles) > 3 && trail.getBoundingClientRect().height < 60) {
      crooked.push(`"${trail.textContent.trim().slice(0, 40)}" ${(Math.max(...middles) - Math.min(...middles)).toFixed(0)}px apart`);
    }
  }
  return crooked;
}"""

# Table cells squeezed so narrow that their words stand a character or two to a line (Chinese,
# Japanese and Korean may break between any two characters): under 2.5em wide and three lines
# or more of text. Read at phone width.
SQUEEZED_CELLS = """() => {
  // Headers kept for screen readers only (clipped) are not seen, so not squeezed.
  const hidden = cell => {
    for (let el = cell; el && el !== document.body; el = el.parentElement) {
      const cs = getComputedStyle(el);
      if (cs.clip !== "auto" || cs.clipPath !== "none") return true;
    }
    return false;
  };
  const squeezed = [];
  for (const cell of document.querySelectorAll("td, th")) {
    const text = cell.innerText.replace(/\\s+/g, "");
    if (text.length <= 3 || hidden(cell)) continue;
    const style = getComputedStyle(cell);
    const size = parseFloat(style.fontSize);
    const width = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const range = document.createRange();
    range.selectNodeContents(cell);
    const lines = range.getBoundingClientRect().height / (parseFloat(style.lineHeight) || 1.5 * size);
    if (width > 0 && width < 2.5 * size && lines >= 3) {
      squeezed.push(`"${text.slice(0, 20)}" ${width.toFixed(0)}px wide, ${Math.round(lines)} lines`);
    }
  }
  return [...new Set(squeezed)].slice(0, 5);
}"""

# A form's button beside its fields (a filter row): the button's middle level with the middle
# of the control next to it, within 3px. Read at desktop width, where such rows are one line.
UNEVEN_BUTTON_ROWS = """() => {
  const uneven = [];
  for (const actions of document.querySelectorAll("form .actions")) {
    const button = actions.querySelector("button, input[type=submit]");
    if (!button) continue;
    const b = button.getBoundingClientRect();
    for (const field of actions.parentElement.querySelectorAll(":scope > .field")) {
      const f = field.getBoundingClientRect();
      if (f.bottom <= b.top || f.top >= b.bottom) continue;  // not in the button's row
      const controls = field.querySelectorAll("input:not([type=hidden]), select, textarea");
      if (!controls.length) continue;
      const c = controls[controls.length - 1].getBoundingClientRect();
      const apart = Math.abs((c.top + c.bottom) / 2 - (b.top + b.bottom) / 2);
      if (apart > 3) uneven.push(`"${button.textContent.trim()}" ${apart.toFixed(0)}px off its row`);
    }
  }
  return [...new Set(uneven)];
}"""

# The focused element and its focus indicator: the best contrast (against the nearest
# background) of an outline or box-shadow ring at least 2px wide; 0 when there is none.
FOCUS_INDICATOR = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const parse = c => { const m = c.match(/[\\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 0]; };
  const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
                               return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const background = node => {
    for (let n = node.parentElement; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  const style = getComputedStyle(el);
  const bg = background(el);
  const rings = [];
  if (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2)
    rings.push(ratio(parse(style.outlineColor), bg));
  for (const shadow of style.boxShadow === "none" ? [] : style.boxShadow.split(/,(?![^(]*\\))/)) {
    const colour = shadow.match(/rgba?\\([^)]*\\)/);
    if (colour && /(\\d+(\\.\\d+)?)px\\s*$/.test(shadow.replace(/rgba?\\([^)]*\\)/, "").trim()))
      rings.push(ratio(parse(colour[0]), bg));
  }
  const name = (el.getAttribute("aria-label") || el.textContent || el.id || el.tagName).trim().slice(0, 30);
  return {name, tag: el.tagName.toLowerCase(), best: rings.length ? Math.max(...rings) : 0};
}"""
