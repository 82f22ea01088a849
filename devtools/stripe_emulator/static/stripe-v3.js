/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fake Stripe.js served by the dev/test Stripe emulator at /js.stripe.com/v3/.
 * Derived from localstripe's localstripe-v3.js, Copyright 2017 Adrien Vergé, and
 * distributed under the GNU GPL version 3 or later (see LICENSE next to this folder).
 *
 * Adds to localstripe's version: stripe.createPaymentMethod(), a full
 * confirmCardPayment() (card Element or payment method id, 3D Secure dialog, Stripe-shaped
 * errors), retrievePaymentIntent/SetupIntent(), handleCardAction()/handleNextAction(),
 * labelled card inputs and Element events ("ready", "change" with `complete`).
 * Calls send the publishable key as `key` in a JSON text body: a CORS "simple request".
 */
(function () {
  'use strict';

  // The emulator's base URL: where this script was loaded from.
  const BASE = (function () {
    const src = document.currentScript.src;
    if (/\/js\.stripe\.com\/v3\/$/.test(src)) {
      return src.replace(/\/js\.stripe\.com\/v3\/$/, '');
    }
    return src.match(/https?:\/\/[^/]*/)[0];
  })();

  const THREE_D_SECURE_TEXT = '3D Secure\nDo you want to confirm or cancel?';

  async function call(method, path, params) {
    const url = new URL(BASE + path);
    const init = {method};
    if (method === 'GET') {
      Object.entries(params).forEach(([k, v]) => url.searchParams.set(k, v));
    } else {
      init.body = JSON.stringify(params);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      return {error: {type: 'api_connection_error',
                      message: 'Could not reach the Stripe emulator: ' + err}};
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok || body.error) {
      return {error: body.error ||
        {type: 'api_error', message: `The emulator answered HTTP ${response.status}.`}};
    }
    return {body};
  }

  function integrationError(message) {
    return {error: {type: 'invalid_request_error', code: 'integration_error', message}};
  }

  function intentId(clientSecret, prefix) {
    const match = typeof clientSecret === 'string' &&
      clientSecret.match(new RegExp(`^(${prefix}_[A-Za-z0-9]+)_secret_`));
    return match ? match[1] : null;
  }

  // The fake 3D Secure page. It stays clickable inside modal dialogs that disable
  // pointer events on <body> or dismiss on outside clicks (e.g. Radix), and keeps focus.
  function openModal(text, confirmText, cancelText) {
    return new Promise(resolve => {
      const box = document.createElement('div'),
            p = document.createElement('p'),
            confirm = document.createElement('button'),
            cancel = document.createElement('button');
      box.setAttribute('role', 'dialog');
      box.setAttribute('aria-modal', 'true');
      box.setAttribute('aria-label', '3D Secure authentication');
      box.appendChild(p);
      box.appendChild(confirm);
      box.appendChild(cancel);
      Object.assign(box.style, {
        position: 'fixed',
        width: '300px',
        top: '50%',
        left: '50%',
        margin: '-35px 0 0 -150px',
        padding: '10px 20px',
        border: '3px solid #ccc',
        background: '#fff',
        'text-align': 'center',
        'z-index': '2147483647',
        'pointer-events': 'auto',
      });
      ['pointerdown', 'mousedown', 'touchstart', 'focusin', 'focusout'].forEach(type =>
        box.addEventListener(type, event => event.stopPropagation()));
      p.innerText = text;
      confirm.type = cancel.type = 'button';
      confirm.innerText = confirmText;
      cancel.innerText = cancelText;
      document.body.appendChild(box);
      const close = result => () => {
        box.remove();
        resolve(result);
      };
      confirm.addEventListener('click', close(true));
      cancel.addEventListener('click', close(false));
      confirm.focus();
    });
  }

  // [field, placeholder (as localstripe), accessible label, size, autocomplete]
  const CARD_FIELDS = [
    ['number', 'number', 'Card number', 16, 'cc-number'],
    ['exp_month', 'exp_month', 'Expiration month (MM)', 2, 'cc-exp-month'],
    ['exp_year', 'exp_year', 'Expiration year (YY)', 2, 'cc-exp-year'],
    ['cvc', 'cvc', 'CVC', 3, 'cc-csc'],
    ['postal_code', 'postal_code', 'Postal code', 5, 'postal-code'],
  ];

  class Element {
    constructor(stripeElements) {
      // Element needs a reference to the object that created it, in order to
      // thoroughly destroy() itself.
      this._stripeElements = stripeElements;
      this.listeners = {};
      this._domChildren = [];
      this._inputs = undefined;
      this.value = {card: {number: '', exp_month: '', exp_year: '', cvc: ''},
                    postal_code: ''};
    }

    mount(domElement) {
      if (typeof domElement === 'string') {
        domElement = document.querySelector(domElement);
      }
      if (!(domElement instanceof window.Element)) {
        throw new Error('Invalid DOM element. Make sure to call mount() with ' +
                        'a valid DOM element or selector.');
      }
      if (this._stripeElements._cardElement !== this) {
        throw new Error('This Element has already been destroyed. Please ' +
                        'create a new one.');
      }
      if (this._domChildren.length) {
        if (domElement === this._domChildren[0].parentElement) {
          return;
        }
        throw new Error('This Element is already mounted. Use `unmount()` to ' +
                        'unmount the Element before re-mounting.');
      }

      const labelSpan = document.createElement('span');
      labelSpan.textContent = 'localstripe: ';
      labelSpan.setAttribute('aria-hidden', 'true');
      this._domChildren.push(labelSpan);

      this._inputs = {};
      CARD_FIELDS.forEach(([field, placeholder, label, size, autocomplete]) => {
        const input = document.createElement('input');
        input.setAttribute('type', 'text');
        input.setAttribute('placeholder', placeholder);
        input.setAttribute('aria-label', label);
        input.setAttribute('size', size);
        input.setAttribute('autocomplete', autocomplete);
        input.setAttribute('inputmode', field === 'postal_code' ? 'text' : 'numeric');
        input.oninput = event => this._changed(event);
        input.onfocus = () => this._emit('focus', {elementType: 'card'});
        input.onblur = () => this._emit('blur', {elementType: 'card'});
        this._inputs[field] = input;
        this._domChildren.push(input);
      });

      this._domChildren.forEach(child => domElement.appendChild(child));
      setTimeout(() => this._emit('ready', {elementType: 'card'}), 0);
    }

    _changed(event) {
      const v = field => this._inputs[field].value.trim();
      const year = v('exp_year');
      this.value = {
        card: {
          number: v('number').replace(/\s+/g, ''),
          exp_month: v('exp_month'),
          exp_year: year.length === 2 ? '20' + year : year,
          cvc: v('cvc'),
        },
        postal_code: v('postal_code'),
      };

      const card = this.value.card;
      if (event.target === this._inputs.number && card.number.length >= 16) {
        this._inputs.exp_month.focus();
      } else if (event.target === this._inputs.exp_month &&
                 parseInt(card.exp_month) > 1) {
        this._inputs.exp_year.focus();
      } else if (event.target === this._inputs.exp_year && card.exp_year.length >= 4) {
        this._inputs.cvc.focus();
      } else if (event.target === this._inputs.cvc && card.cvc.length >= 3) {
        this._inputs.postal_code.focus();
      }

      const empty = CARD_FIELDS.every(([field]) => !v(field));
      this._emit('change', {
        elementType: 'card',
        empty,
        complete: !validationError(this),
        brand: card.number.startsWith('4') ? 'visa' : 'unknown',
        error: undefined,
        value: {postalCode: this.value.postal_code},
      });
    }

    _emit(type, event) {
      (this.listeners[type] || []).forEach(handler => handler(event));
    }

    on(event, handler) {
      this.listeners[event] = this.listeners[event] || [];
      this.listeners[event].push(handler);
      return this;
    }

    off(event, handler) {
      this.listeners[event] = (this.listeners[event] || []).filter(h => h !== handler);
      return this;
    }

    focus() {
      if (this._inputs) this._inputs.number.focus();
    }

    blur() {
      if (this._inputs) Object.values(this._inputs).forEach(input => input.blur());
    }

    clear() {
      if (this._inputs) Object.values(this._inputs).forEach(input => { input.value = ''; });
      this.value = {card: {number: '', exp_month: '', exp_year: '', cvc: ''},
                    postal_code: ''};
    }

    update() {}

    unmount() {
      while (this._domChildren.length) {
        this._domChildren.pop().remove();
      }
      this._inputs = undefined;
    }

    destroy() {
      this.unmount();
      if (this._stripeElements._cardElement === this) {
        this._stripeElements._cardElement = null;
      }
    }
  }

  // Stripe.js checks the card fields before calling the API; so does this fake.
  function validationError(element) {
    const card = element.value.card;
    const error = (code, message) => ({type: 'validation_error', code, message});
    if (!/^\d{16}$/.test(card.number)) {
      return error('incomplete_number', 'Your card number is incomplete.');
    }
    const month = parseInt(card.exp_month, 10);
    if (!(month >= 1 && month <= 12) || !/^\d{4}$/.test(card.exp_year)) {
      return error('incomplete_expiry', "Your card's expiration date is incomplete.");
    }
    if (!/^\d{3,4}$/.test(card.cvc)) {
      return error('incomplete_cvc', "Your card's security code is incomplete.");
    }
    return null;
  }

  function cardPaymentMethodData(element, billingDetails) {
    const billing = Object.assign({}, billingDetails || {});
    billing.address = Object.assign({}, billing.address || {});
    if (!billing.address.postal_code && element.value.postal_code) {
      billing.address.postal_code = element.value.postal_code;
    }
    return {type: 'card', card: Object.assign({}, element.value.card),
            billing_details: billing};
  }

  // `payment_method` of confirmCard*(): an id, or {card: Element, billing_details}.
  function paymentMethodParams(paymentMethod) {
    if (paymentMethod === undefined || paymentMethod === null) return {params: {}};
    if (typeof paymentMethod === 'string') return {params: {payment_method: paymentMethod}};
    if (paymentMethod.card instanceof Element) {
      const invalid = validationError(paymentMethod.card);
      if (invalid) return {error: invalid};
      return {params: {payment_method_data:
        cardPaymentMethodData(paymentMethod.card, paymentMethod.billing_details)}};
    }
    return integrationError('payment_method must be a PaymentMethod id or ' +
                            '{card: cardElement, billing_details}.');
  }

  window.Stripe = function Stripe(apiKey) {
    const auth = clientSecret => ({key: apiKey, client_secret: clientSecret});

    function paymentIntentResult(intent) {
      if (intent.status === 'requires_payment_method' && intent.last_payment_error) {
        return {error: Object.assign({}, intent.last_payment_error,
                                     {payment_intent: intent})};
      }
      return {paymentIntent: intent};
    }

    async function authenticatePayment(intent, clientSecret) {
      const success = await openModal(THREE_D_SECURE_TEXT, 'Complete authentication',
                                      'Fail authentication');
      const {error, body} = await call(
        'POST', `/v1/payment_intents/${intent.id}/_authenticate?success=${success}`,
        auth(clientSecret));
      return error ? {error} : paymentIntentResult(body);
    }

    async function finishPayment(intent, clientSecret, handleActions) {
      if (intent.status === 'requires_action' && handleActions) {
        return authenticatePayment(intent, clientSecret);
      }
      return paymentIntentResult(intent);
    }

    async function retrieve(kind, prefix, clientSecret) {
      const id = intentId(clientSecret, prefix);
      if (!id) return integrationError('Invalid client secret.');
      return call('GET', `/v1/${kind}/${id}`, auth(clientSecret));
    }

    const stripe = {
      elements: () => {
        return {
          _cardElement: null,
          create: function (type, options) {
            if (this._cardElement) {
              throw new Error('Can only create one Element of type card');
            }
            this._cardElement = new Element(this);
            return this._cardElement;
          },
          getElement: function (type) {
            return this._cardElement;
          },
        };
      },

      createPaymentMethod: async (typeOrData, element, extra) => {
        console.log('localstripe: Stripe().createPaymentMethod()');
        const data = typeof typeOrData === 'string'
          ? Object.assign({type: typeOrData, card: element}, extra || {})
          : (typeOrData || {});
        if (data.type !== 'card' || !(data.card instanceof Element)) {
          return integrationError('The fake Stripe.js only creates card payment ' +
                                  'methods from a card Element.');
        }
        const invalid = validationError(data.card);
        if (invalid) return {error: invalid};
        const params = Object.assign({key: apiKey},
          cardPaymentMethodData(data.card, data.billing_details));
        if (data.metadata) params.metadata = data.metadata;
        const {error, body} = await call('POST', '/v1/payment_methods', params);
        return error ? {error} : {paymentMethod: body};
      },

      confirmCardPayment: async (clientSecret, data, options) => {
        console.log('localstripe: Stripe().confirmCardPayment()');
        data = data || {};
        const id = intentId(clientSecret, 'pi');
        if (!id) return integrationError('Invalid PaymentIntent client secret.');
        const pm = paymentMethodParams(data.payment_method);
        if (pm.error) return {error: pm.error};
        const params = Object.assign(auth(clientSecret), {use_stripe_sdk: true}, pm.params);
        ['setup_future_usage', 'receipt_email', 'return_url'].forEach(field => {
          if (data[field] !== undefined) params[field] = data[field];
        });
        const {error, body} = await call('POST', `/v1/payment_intents/${id}/confirm`, params);
        if (error) return {error};
        return finishPayment(body, clientSecret, !options || options.handleActions !== false);
      },

      handleCardAction: async clientSecret => {
        console.log('localstripe: Stripe().handleCardAction()');
        const {error, body} = await retrieve('payment_intents', 'pi', clientSecret);
        return error ? {error} : finishPayment(body, clientSecret, true);
      },

      handleNextAction: async ({clientSecret}) => stripe.handleCardAction(clientSecret),

      retrievePaymentIntent: async clientSecret => {
        const {error, body} = await retrieve('payment_intents', 'pi', clientSecret);
        return error ? {error} : {paymentIntent: body};
      },

      retrieveSetupIntent: async clientSecret => {
        const {error, body} = await retrieve('setup_intents', 'seti', clientSecret);
        return error ? {error} : {setupIntent: body};
      },

      confirmCardSetup: async (clientSecret, data) => {
        console.log('localstripe: Stripe().confirmCardSetup()');
        data = data || {};
        const seti = intentId(clientSecret, 'seti');
        if (!seti) return integrationError('Invalid SetupIntent client secret.');
        const pm = paymentMethodParams(data.payment_method);
        if (pm.error) return {error: pm.error};
        const confirmUrl = `/v1/setup_intents/${seti}/confirm`;
        let {error, body} = await call('POST', confirmUrl,
          Object.assign(auth(clientSecret), {use_stripe_sdk: true}, pm.params));
        if (error) return {error};
        if (body.status === 'requires_action') {
          const success = await openModal(THREE_D_SECURE_TEXT, 'Complete authentication',
                                          'Fail authentication');
          const url = success ? confirmUrl : `/v1/setup_intents/${seti}/cancel`;
          ({error, body} = await call('POST', url,
            Object.assign(auth(clientSecret), {use_stripe_sdk: true})));
          if (error) return {error};
          if (!success) {  // 3D Secure authentication failed:
            return {error: {
              type: 'invalid_request_error',
              code: 'setup_intent_authentication_failure',
              message: 'The latest attempt to set up the payment method has failed ' +
                       'because authentication failed.',
              setup_intent: body,
            }};
          }
        }
        if (body.status === 'succeeded') return {setupIntent: body};
        return {error: {type: 'invalid_request_error',
                        message: `setup_intent has status ${body.status}`,
                        setup_intent: body}};
      },

      handleCardSetup:  // deprecated
        async (clientSecret, element, data) => stripe.confirmCardSetup(clientSecret, {
          payment_method: Object.assign({card: element},
                                        (data || {}).payment_method_data),
        }),

      handleCardPayment:  // deprecated
        async (clientSecret, element, data) => stripe.confirmCardPayment(clientSecret,
          element instanceof Element
            ? {payment_method: Object.assign({card: element},
                                             (data || {}).payment_method_data)}
            : undefined),

      createToken: async element => {
        console.log('localstripe: Stripe().createToken()');
        const body = new URLSearchParams();
        Object.keys(element.value.card).forEach(field => {
          body.append(`card[${field}]`, element.value.card[field]);
        });
        body.append('key', apiKey);
        body.append('payment_user_agent', 'localstripe');
        try {
          const response = await fetch(`${BASE}/v1/tokens`, {method: 'POST', body});
          const res = await response.json().catch(() => ({}));
          if (response.status !== 200 || res.error) {
            return {error: res.error};
          }
          return {token: res};
        } catch (err) {
          return {error: err};
        }
      },

      createSource: async source => {
        console.log('localstripe: Stripe().createSource()');
        const {error, body} = await call('POST', '/v1/sources',
          Object.assign({key: apiKey, payment_user_agent: 'localstripe'}, source));
        return error ? {error} : {source: body};
      },

      retrieveSource: () => {},  // not emulated

      confirmSepaDebitSetup: async (clientSecret, data) => {
        console.log('localstripe: Stripe().confirmSepaDebitSetup()');
        const seti = intentId(clientSecret, 'seti');
        if (!seti) return integrationError('Invalid SetupIntent client secret.');
        const {error, body} = await call('POST', `/v1/setup_intents/${seti}/confirm`,
          Object.assign(auth(clientSecret), {
            use_stripe_sdk: true,
            payment_method_data: Object.assign({type: 'sepa_debit'}, data.payment_method),
          }));
        return error ? {error} : {setupIntent: body};
      },
    };
    return stripe;
  };

  console.log('localstripe: The Stripe object was just replaced in the page. ' +
              'Stripe elements created from now on will be fake ones, ' +
              `communicating with the mock server at ${BASE}.`);
})();
