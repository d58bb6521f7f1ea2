// Small helpers the console's screens share: building elements (text is
// always set as text, never as HTML), times and values as people read them.

/**
 * `h("button", {class: "primary", onclick}, "Keep Notion")`: an element with
 * attributes (functions become listeners, `true` a bare attribute, `false`
 * or null nothing) and children (strings become text).
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (typeof value === "function") element.addEventListener(name.replace(/^on/, ""), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return element;
}

/** Replaces what `element` shows. */
export function show(element, ...children) {
  element.replaceChildren(...children.flat(Infinity).filter(Boolean));
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dated = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });

/** "2:30 PM" today, "Dec 1, 2:30 PM" another day; "" for no time. */
export function when(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return String(iso);
  const today = new Date().toDateString() === at.toDateString();
  return today ? clock.format(at) : dated.format(at);
}

/** A `<time>` element for an ISO time. */
export function time(iso) {
  return h("time", { datetime: iso }, when(iso));
}

/** "nextFollowUp" -> "Next follow up": a field key as words. */
export function fieldWords(key) {
  return sentence(String(key).replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase());
}

/** A sync value (`{type, value}` as the backups carry them) as text. */
export function valueText(value) {
  if (!value || value.type === "empty") return "(empty)";
  const v = value.value;
  switch (value.type) {
    case "bool":
      return v ? "Yes" : "No";
    case "names":
      return v.join(", ");
    case "date":
      return v.day ?? when(v.instant);
    default:
      return String(v);
  }
}

/** A value kept on one line ("(415) 555-0100" never breaks). */
export function value(text) {
  return h("span", { class: "value" }, text);
}

/** A status word in a coloured pill: `badge("failed", "Failed")`. */
export function badge(kind, text) {
  return h("span", { class: `badge badge-${kind}` }, text);
}

/** A sentence as it starts on a screen: "contact 1001 changed" -> "Contact 1001 changed". */
export function sentence(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
}

/** An error as a person reads it: what went wrong and what to do. */
export function problem(error, ...after) {
  return h(
    "div",
    { class: "problem", role: "alert" },
    h("p", {}, h("strong", {}, sentence(error.message))),
    error.hint ? h("p", { class: "fix" }, error.hint) : null,
    ...after,
  );
}

/**
 * Runs `work` and resolves what it gives; a failure is shown in `where`
 * (a refused key asks for the key again instead) and resolves `undefined`.
 */
export async function attempt(app, where, work) {
  try {
    return await work();
  } catch (error) {
    if (!app.keyRefused(error)) show(where, problem(error));
    return undefined;
  }
}
