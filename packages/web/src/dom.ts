/** A few lines instead of a framework: build elements, never parse HTML from data. */
type Child = Node | string | null | undefined | false;

/** `h('td.name', {title: 'x'}, 'text', child)`: an element with classes, attributes and children. */
export function h(tag: string, attrs: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElement {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name!);
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}
