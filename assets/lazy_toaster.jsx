// LazyToaster: Reflex's toast provider (sonner's <Toaster>), with sonner loaded on the first
// toast instead of with every page. Wrapped for Reflex by mioapp/ui/components/toaster.py.
// Until then refs["__toast"] is a stand-in with sonner's call signatures: a toast shown
// meanwhile loads sonner, mounts its Toaster and is shown then, in the order it came.
import { createElement, useEffect, useState } from "react";
import { refs } from "$/utils/state";

// [method or null, arguments] of the toasts asked for before sonner was ready.
const queued = [];
// sonner's module once its Toaster is mounted: calls then go straight to it.
let ready = null;
let loading = null;
// The setters of the LazyToasters on the page, told when sonner has loaded.
const toasters = new Set();

function loadSonner() {
  if (loading === null) {
    loading = import("sonner").then(
      (sonner) => {
        for (const show of toasters) show(() => sonner);
        return sonner;
      },
      (error) => {
        // Offline or a failed deploy: forget the attempt, so the next toast tries again.
        loading = null;
        console.error("The notifications could not be loaded:", error);
      },
    );
  }
  return loading;
}

function call(toast, method, args) {
  return method === null ? toast(...args) : toast[method](...args);
}

function enqueue(method, args) {
  if (ready !== null) return call(ready.toast, method, args);
  queued.push([method, args]);
  loadSonner();
  return undefined;
}

const standIn = (...args) => enqueue(null, args);
for (const method of ["success", "error", "info", "warning", "message", "loading", "custom"]) {
  standIn[method] = (...args) => enqueue(method, args);
}
standIn.promise = (...args) => enqueue("promise", args);
// Nothing is on screen before sonner loads: dismissing drops what waits under that id
// (all of it without one) and loads nothing. Reflex's connection banner dismisses its
// toast whenever the page connects, so this is called on every page.
standIn.dismiss = (id) => {
  if (ready !== null) return ready.toast.dismiss(id);
  for (let i = queued.length - 1; i >= 0; i--) {
    const options = queued[i][1][1];
    if (id === undefined || (options && options.id === id)) queued.splice(i, 1);
  }
  return id;
};

if (refs["__toast"] === undefined) refs["__toast"] = standIn;

export function LazyToaster(props) {
  const [sonner, setSonner] = useState(() => ready);
  useEffect(() => {
    toasters.add(setSonner);
    if (queued.length > 0) loadSonner();
    return () => {
      toasters.delete(setSonner);
    };
  }, []);
  useEffect(() => {
    if (sonner === null) return;
    // Child effects run first: the Toaster below has subscribed to sonner's toasts.
    ready = sonner;
    refs["__toast"] = sonner.toast;
    for (const [method, args] of queued.splice(0)) call(sonner.toast, method, args);
  }, [sonner]);
  return sonner === null ? null : createElement(sonner.Toaster, props);
}
