// The sync key: asked for once, kept in this tab's sessionStorage by
// syncClient.js, never put in a URL. A refused key is said so, and asked
// for again.

import * as sync from "../syncClient.js";

const dialog = () => document.getElementById("key-dialog");

let asking = null;

/**
 * Shows the key prompt (once, however many screens ask at the same time)
 * and resolves when the sync accepted a key. `why` says why it is asked
 * again (a refused key), or nothing the first time.
 */
export function askForKey(why = "") {
  asking ??= prompt(why).finally(() => {
    asking = null;
  });
  return asking;
}

function prompt(why) {
  const box = dialog();
  const form = document.getElementById("key-form");
  const input = document.getElementById("key-input");
  const error = document.getElementById("key-error");
  const say = (text) => {
    error.textContent = text;
    error.hidden = !text;
  };
  say(why);
  input.value = "";
  return new Promise((resolve) => {
    const refuseEscape = (event) => event.preventDefault();
    const submit = async (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) return say("Enter the key first.");
      sync.setKey(key);
      say("");
      form.setAttribute("aria-busy", "true");
      try {
        await sync.status();
      } catch (failure) {
        if (failure.wrongKey) {
          input.select();
          return say(`That key was refused (${failure.message}). Check SYNC_API_KEY in Netlify and enter it again.`);
        }
        // Reachable or not, the key is taken; the screens show what failed.
      } finally {
        form.removeAttribute("aria-busy");
      }
      form.removeEventListener("submit", submit);
      box.removeEventListener("cancel", refuseEscape);
      box.close();
      resolve();
    };
    form.addEventListener("submit", submit);
    box.addEventListener("cancel", refuseEscape);
    if (!box.open) box.showModal();
    input.focus();
  });
}
