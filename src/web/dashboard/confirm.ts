// An action button that asks first: a click shows the question with "Confirm" and "Cancel";
// "Confirm" runs the action once (the buttons are disabled meanwhile) and shows what it did, or
// why it failed.
import { h, replace } from "./dom.js";
import { errorLine, type ViewContext } from "./view.js";

export type ConfirmedAction<T> = {
  label: string;
  /** The question shown before it runs; a function is asked at the click (it reads the form). */
  question: string | (() => string | Error);
  run: () => Promise<T>;
  /** What the answer looks like on the page (default: "Done."). */
  render?: (answer: T) => Node;
  /** Names the elements for tests and links: `<id>`, `<id>-confirm`, `<id>-result`. */
  id?: string;
};

export function confirmAction<T>(ctx: ViewContext, a: ConfirmedAction<T>): HTMLElement {
  const id = a.id ?? "action";
  const start = h("button", { type: "button", id }, a.label);
  const ask = h("div", { hidden: true, class: "toolbar" });
  const result = h("div", { id: `${id}-result`, "aria-live": "polite" });
  start.addEventListener("click", () => {
    const question = typeof a.question === "function" ? a.question() : a.question;
    if (question instanceof Error) {
      replace(result, errorLine(question));
      return;
    }
    const confirm = h("button", { type: "button", id: `${id}-confirm` }, "Confirm");
    const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
    cancel.addEventListener("click", () => {
      ask.hidden = true;
      start.hidden = false;
    });
    confirm.addEventListener("click", async () => {
      confirm.disabled = cancel.disabled = true;
      replace(result, h("p", { class: "muted" }, "Working…"));
      try {
        const answer = await a.run();
        if (ctx.alive()) replace(result, a.render ? a.render(answer) : h("p", { class: "ok" }, "Done."));
      } catch (err) {
        if (ctx.alive()) replace(result, errorLine(err));
      }
      ask.hidden = true;
      start.hidden = false;
    });
    replace(ask, h("span", {}, question), confirm, cancel);
    ask.hidden = false;
    start.hidden = true;
    replace(result);
  });
  return h("div", {}, start, ask, result);
}
