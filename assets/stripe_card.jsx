// StripeCardField: Stripe.js's card Element as a React component, wrapped for Reflex by
// mioapp/ui/components/stripe_card.py. It exists so that card confirmation needs no eval()
// (rx.call_script / rx.call_function eval their code, which a CSP without 'unsafe-eval'
// blocks). Stripe.js is loaded by this module, only on pages that show a card field:
// loadStripeJs() starts when the page's module runs (before hydration ends) and the field
// awaits the same promise, so the order never depends on which finishes first.
import { useEffect, useRef } from "react";

// One load per URL for the page; a failed load is forgotten so a later field can retry.
const stripeJsLoads = new Map();

// Resolves to window.Stripe, or null when the script cannot be loaded (offline, blocked);
// never rejects, so callers need no catch.
export function loadStripeJs(url) {
  if (typeof document === "undefined" || !url) return Promise.resolve(null);
  if (typeof window.Stripe === "function") return Promise.resolve(window.Stripe);
  if (!stripeJsLoads.has(url)) {
    const loading = new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = () => resolve(typeof window.Stripe === "function" ? window.Stripe : null);
      script.onerror = () => {
        stripeJsLoads.delete(url);
        script.remove();
        resolve(null);
      };
      document.head.appendChild(script);
    });
    stripeJsLoads.set(url, loading);
  }
  return stripeJsLoads.get(url);
}

// One Stripe object per publishable key for the page: StrictMode and dialogs that open
// twice mount this component repeatedly, and Stripe.js needs only one instance.
const stripeByKey = new Map();

// null when Stripe.js is missing or rejects the key (it throws, e.g. for an sk_ key);
// a throw inside an effect would take the whole page down to Reflex's error boundary.
export function getStripe(publishableKey) {
  if (!publishableKey || typeof window === "undefined" || typeof window.Stripe !== "function") {
    return null;
  }
  if (!stripeByKey.has(publishableKey)) {
    try {
      stripeByKey.set(publishableKey, window.Stripe(publishableKey));
    } catch {
      return null;
    }
  }
  return stripeByKey.get(publishableKey);
}

// Stripe client secrets are "<intent id>_secret_<...>": lets an error without
// error.payment_intent still name its intent.
function intentIdFromSecret(clientSecret) {
  const match = /^(pi_[A-Za-z0-9]+)_secret_/.exec(clientSecret || "");
  return match ? match[1] : "";
}

function failure(clientSecret, error) {
  const intent = (error && error.payment_intent) || {};
  return {
    ok: false,
    payment_intent_id: intent.id || intentIdFromSecret(clientSecret),
    status: intent.status || "",
    error_message: (error && error.message) || "The payment could not be confirmed.",
    error_code: (error && (error.code || error.type)) || "",
    decline_code: (error && error.decline_code) || "",
  };
}

async function confirmPayment(stripe, card, clientSecret) {
  if (!stripe || !card) {
    return failure(clientSecret, {
      code: "stripe_js_unavailable",
      message: "Stripe.js is not available (not loaded, or it rejected the publishable key).",
    });
  }
  // A Radix modal dialog sets pointer-events:none on <body>; Stripe's 3D Secure frame is
  // appended to <body>, so without this it could not be clicked.
  const body = document.body;
  const previous = body.style.pointerEvents;
  body.style.pointerEvents = "auto";
  try {
    const result = await stripe.confirmCardPayment(clientSecret, {
      payment_method: { card },
    });
    if (result.error) return failure(clientSecret, result.error);
    const intent = result.paymentIntent || {};
    return {
      ok: true,
      payment_intent_id: intent.id || intentIdFromSecret(clientSecret),
      status: intent.status || "",
      error_message: "",
      error_code: "",
      decline_code: "",
    };
  } catch (err) {
    // Callers only ever hear back through onResult, so a throw becomes a result too.
    return failure(clientSecret, {
      code: "confirm_exception",
      message: String(err?.message || err),
    });
  } finally {
    // Only undo our own change: if the dialog closed meanwhile, Radix has already put
    // body's original value back and restoring "none" would freeze the page.
    if (body.style.pointerEvents === "auto") body.style.pointerEvents = previous;
  }
}

export function StripeCardField({
  stripeJsUrl,
  publishableKey,
  clientSecret,
  options,
  onChange,
  onResult,
  onReady,
  id,
  className,
  style,
}) {
  const container = useRef(null);
  const card = useRef(null);
  // Reflex passes new handler closures on every render; reading them through a ref keeps
  // the Element from being torn down and rebuilt each time.
  const handlers = useRef({});
  handlers.current = { onChange, onResult, onReady };
  // A secret present at the first render belongs to an earlier attempt (e.g. a dialog
  // opened again): the fresh Element is empty, so confirming it could only fail.
  // StrictMode keeps refs across its mount/unmount/mount, so this Set stops a double confirm.
  const confirmed = useRef(null);
  if (confirmed.current === null) confirmed.current = new Set(clientSecret ? [clientSecret] : []);

  useEffect(() => {
    let element = null;
    let unmounted = false;
    loadStripeJs(stripeJsUrl).then((Stripe) => {
      if (unmounted || !container.current || !publishableKey) return;
      if (!Stripe) {
        handlers.current.onChange?.({
          complete: false,
          empty: true,
          error: "The card form could not be loaded. Check your connection and reload the page.",
        });
        return;
      }
      const stripe = getStripe(publishableKey);
      if (!stripe) return;
      // A fresh elements() group on every mount: a destroyed Element cannot be mounted
      // again, and StrictMode unmounts and remounts once in development.
      const created = stripe.elements().create("card", { hidePostalCode: false, ...(options || {}) });
      // StrictMode's discarded first Element may still fire "ready" after its destroy().
      const live = () => card.current === created;
      created.on("change", (event) => {
        if (!live()) return;
        handlers.current.onChange?.({
          complete: Boolean(event.complete),
          empty: Boolean(event.empty),
          error: event.error?.message || "",
        });
      });
      created.on("ready", () => live() && handlers.current.onReady?.());
      card.current = element = created;
      created.mount(container.current);
    });
    return () => {
      unmounted = true;
      if (element === null) return;
      if (card.current === element) card.current = null;
      element.destroy();
    };
    // options are read once per mount, like Stripe's own create() call.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [publishableKey, stripeJsUrl]);

  useEffect(() => {
    if (!clientSecret || confirmed.current.has(clientSecret)) return;
    confirmed.current.add(clientSecret);
    confirmPayment(getStripe(publishableKey), card.current, clientSecret).then((result) =>
      handlers.current.onResult?.(result),
    );
  }, [clientSecret, publishableKey]);

  return <div id={id} className={className} style={style} ref={container} />;
}
