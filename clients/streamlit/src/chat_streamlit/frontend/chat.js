// The Streamlit component's page. Streamlit's component protocol: the page says
// "streamlit:componentReady", Streamlit answers "streamlit:render" with the arguments, and the
// page sets its frame's height with "streamlit:setFrameHeight". Every value is data: it is
// shown with textContent only, and the token goes only into the chat view's address on chatUrl.
(function () {
  'use strict';

  var root = document.getElementById('root');
  var notice = document.getElementById('notice');
  var frame = document.getElementById('chat');
  var args = null;
  var state = 'idle'; // idle | loading | shown | hidden | failed
  var pollTimer = null;
  var refreshTimer = null;

  function post(type, extra) {
    var message = { isStreamlitMessage: true, type: type };
    for (var k in extra) message[k] = extra[k];
    window.parent.postMessage(message, '*'); // carries no secret: a type and a height
  }

  function setHeight(px) {
    post('streamlit:setFrameHeight', { height: px });
  }

  function contentHeight() {
    return Math.ceil(document.documentElement.getBoundingClientRect().height);
  }

  // Chat off: nothing on the page, no token in the DOM, a frame of height 0.
  function hide() {
    clearTimeout(refreshTimer);
    frame.removeAttribute('src');
    frame.hidden = true;
    notice.hidden = true;
    root.hidden = true;
    state = 'hidden';
    document.body.setAttribute('data-chat-state', state);
    setHeight(0);
  }

  function fail(text) {
    frame.removeAttribute('src');
    frame.hidden = true;
    notice.textContent = text;
    notice.hidden = false;
    root.hidden = false;
    state = 'failed';
    document.body.setAttribute('data-chat-state', state);
    setHeight(contentHeight());
  }

  function chatOrigin() {
    return new URL(args.chatUrl).origin;
  }

  function show(token, expiresIn) {
    var view = new URL('/chat/', chatOrigin());
    view.searchParams.set('session', args.sessionId);
    view.searchParams.set('token', token);
    view.searchParams.set('api', args.apiUrl);
    // The one-session view, without the session list: the analysis page chose the session.
    view.searchParams.set('embed', '1');
    if (args.wsUrl) view.searchParams.set('ws', args.wsUrl);
    frame.style.height = args.height + 'px';
    frame.src = view.toString();
    frame.hidden = false;
    notice.hidden = true;
    root.hidden = false;
    state = 'shown';
    document.body.setAttribute('data-chat-state', state);
    setHeight(contentHeight());
    // A short-lived token: open the view again with a new one before it runs out.
    clearTimeout(refreshTimer);
    if (expiresIn > 0) refreshTimer = setTimeout(load, Math.max(expiresIn * 800, 5000));
  }

  function chatIsOn() {
    return fetch(args.apiUrl + '/status', { cache: 'no-store' })
      .then(function (r) { return r.ok ? r.json() : { chat: 'on' }; })
      .then(function (body) { return body.chat !== 'off'; })
      // Unreachable status counts as on: the chat view then says what is wrong.
      .catch(function () { return true; });
  }

  function fetchToken() {
    return fetch(args.tokenUrl, {
      method: 'POST',
      credentials: 'include', // the page's backend knows its user by its own cookie
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: args.sessionId, user: args.user, name: args.name }),
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) { return { status: r.status, body: body }; });
    });
  }

  function load() {
    state = 'loading';
    chatIsOn().then(function (on) {
      if (!on) return hide();
      return fetchToken().then(function (answer) {
        var code = answer.body && answer.body.error && answer.body.error.code;
        if (answer.status === 503 && code === 'chat_disabled') return hide();
        if (answer.status !== 200 || typeof answer.body.token !== 'string') {
          return fail('The chat is not available: ' + (code || 'status ' + answer.status) + '.');
        }
        show(answer.body.token, Number(answer.body.expiresIn) || 0);
      });
    }).catch(function () { fail('The chat is not available: the token could not be fetched.'); });
  }

  // Hides soon after chat is turned off, and comes back with a new token once it is on again.
  function poll() {
    chatIsOn().then(function (on) {
      if (!on && state !== 'hidden') hide();
      else if (on && state === 'hidden') load();
    });
  }

  function render(newArgs) {
    var same = args && JSON.stringify(args) === JSON.stringify(newArgs);
    args = newArgs;
    if (same) return; // Streamlit renders again on every rerun of the script
    clearInterval(pollTimer);
    pollTimer = setInterval(poll, args.statusPollMs);
    load();
  }

  window.addEventListener('message', function (event) {
    if (event.source !== window.parent) return;
    var data = event.data;
    if (data && data.type === 'streamlit:render' && data.args) render(data.args);
  });
  post('streamlit:componentReady', { apiVersion: 1 });
})();
