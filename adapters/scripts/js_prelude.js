// The JavaScript side of the script bridge, shared by every JS engine.
//
// JS never calls into Python directly: a host call appends a request to a queue and returns a
// Promise; the host drains the queue whenever JS returns control and settles the promises in a
// batch. That keeps every entry into JS under the engine's time limit (QuickJS cannot call Python
// while one is set) and makes QuickJS and V8 behave identically.
//
// Values travel as JSON with two tags: {"$fn": id} for functions handed to the host and
// {"$bytes": base64} for Uint8Array. Functions here are named __llmspell_* so that error
// locations skip them and point at the user's own line.
(function __llmspell_install(specJson) {
  "use strict";
  const spec = JSON.parse(specJson);
  const fns = [];
  const fnIds = new Map();
  const pending = new Map();
  const refs = new WeakMap();
  const protos = {};
  let queue = [];
  let nextId = 1;

  function __llmspell_fn_id(f) {
    let id = fnIds.get(f);
    if (id === undefined) {
      id = fns.length;
      fns.push(f);
      fnIds.set(f, id);
    }
    return id;
  }

  // Base64 by hand: V8 under mini-racer has no btoa/atob.
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  function __llmspell_b64encode(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
      out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
      out += i + 2 < bytes.length ? B64[n & 63] : "=";
    }
    return out;
  }

  function __llmspell_b64decode(text) {
    const clean = text.replace(/=+$/, "");
    const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
    let bits = 0;
    let value = 0;
    let j = 0;
    for (let i = 0; i < clean.length; i++) {
      value = (value << 6) | B64.indexOf(clean[i]);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[j++] = (value >> bits) & 255;
      }
    }
    return out;
  }

  function __llmspell_replacer(key, value) {
    if (typeof value === "function") return { $fn: __llmspell_fn_id(value) };
    if (value instanceof Uint8Array) return { $bytes: __llmspell_b64encode(value) };
    return value;
  }

  function __llmspell_reviver(key, value) {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      if (typeof value.$fn === "number") return fns[value.$fn];
      if (typeof value.$bytes === "string") return __llmspell_b64decode(value.$bytes);
      if (typeof value.$obj === "string") {
        const proto = protos[value.$obj] || null;
        // A type with a `__call` method makes its objects callable (a stream's `emit(item)`).
        const obj = proto && proto.__call
          ? Object.assign(function __llmspell_callable(...args) { return proto.__call.apply(obj, args); }, value.fields)
          : Object.assign(Object.create(proto), value.fields);
        refs.set(obj, value.$ref);
        return obj;
      }
    }
    return value;
  }

  function __llmspell_encode(value) {
    return JSON.stringify(value === undefined ? null : value, __llmspell_replacer);
  }

  function __llmspell_decode(text) {
    return JSON.parse(text, text.indexOf('"$') >= 0 ? __llmspell_reviver : undefined);
  }

  function __llmspell_fail(info, error) {
    const err = error || new Error();
    err.message = info.message;
    if (info.code) err.code = info.code;
    return err;
  }

  function __llmspell_enqueue(id, name, args) {
    queue.push("[" + id + "," + JSON.stringify(name) + "," + __llmspell_encode(args) + "]");
  }

  function __llmspell_request(name, args, error) {
    const id = nextId++;
    __llmspell_enqueue(id, name, args);
    return new Promise(function __llmspell_wait(resolve, reject) {
      pending.set(id, { resolve, reject, error });
    });
  }

  function __llmspell_stub(name, notify) {
    if (notify) {
      return function __llmspell_notify(...args) {
        __llmspell_enqueue(0, name, args);
      };
    }
    return function __llmspell_call(...args) {
      // Created now, while the caller's frames are on the stack, so a failure points at them.
      return __llmspell_request(name, args, new Error());
    };
  }

  // A streaming method: the host gets a chunk callback; the script gets an async iterator of
  // the chunks, whose `result` promise holds what the method returned.
  function __llmspell_stream_stub(name) {
    return function __llmspell_stream(...args) {
      const chunks = [];
      let wake = null;
      let finished = false;
      let failure = null;
      const notify = () => {
        if (wake) {
          const w = wake;
          wake = null;
          w();
        }
      };
      const result = __llmspell_request(name, [refs.get(this), ...args, (c) => { chunks.push(c); notify(); }], new Error());
      result.then(() => { finished = true; notify(); }, (e) => { failure = e; finished = true; notify(); });
      return {
        result,
        [Symbol.asyncIterator]() { return this; },
        async next() {
          while (chunks.length === 0 && !finished) await new Promise((r) => { wake = r; });
          if (chunks.length) return { value: chunks.shift(), done: false };
          if (failure) throw failure;
          return { value: undefined, done: true };
        },
      };
    };
  }

  for (const type of Object.keys(spec.types)) {
    const proto = {};
    for (const m of Object.keys(spec.types[type])) {
      const name = type + "#" + m;
      proto[m] = spec.types[type][m].stream
        ? __llmspell_stream_stub(name)
        : function __llmspell_method(...args) {
            return __llmspell_request(name, [refs.get(this), ...args], new Error());
          };
    }
    protos[type] = proto;
  }

  for (const ns of Object.keys(spec.namespaces)) {
    const target = ns === "JSON" ? JSON : {};
    const members = spec.namespaces[ns];
    for (const fname of Object.keys(members)) {
      target[fname] = __llmspell_stub(ns + "." + fname, members[fname].notify);
    }
    globalThis[ns] = target;
  }
  for (const fname of Object.keys(spec.functions)) {
    globalThis[fname] = __llmspell_stub(fname, spec.functions[fname].notify);
  }
  for (const vname of Object.keys(spec.values)) globalThis[vname] = spec.values[vname];
  for (const ns of Object.keys(spec.builders)) {
    const { fields, build } = spec.builders[ns];
    globalThis[ns].builder = function __llmspell_builder() {
      const data = {};
      const b = {};
      for (const f of fields) b[f] = (v) => { data[f] = v; return b; };
      b.build = () => globalThis[ns][build](data);
      return b;
    };
  }

  // JSON.encode/decode run here, synchronously, with the host's canonical form (sorted keys).
  function __llmspell_canonical(value) {
    if (Array.isArray(value)) return value.map(__llmspell_canonical);
    if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
      const out = {};
      for (const k of Object.keys(value).sort()) out[k] = __llmspell_canonical(value[k]);
      return out;
    }
    return value;
  }
  JSON.null = null;
  JSON.encode = function __llmspell_json_encode(value, opts) {
    const indent = opts && opts.indent ? opts.indent : undefined;
    return JSON.stringify(__llmspell_canonical(value === undefined ? null : value), null, indent);
  };
  JSON.decode = function __llmspell_json_decode(text) {
    if (typeof text !== "string") {
      throw __llmspell_fail({ message: "[invalid_arguments] JSON.decode(text): text must be a string", code: "invalid_arguments" }, new Error());
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw __llmspell_fail({ message: "[invalid_arguments] JSON.decode: " + e.message, code: "invalid_arguments" }, new Error());
    }
  };

  function __llmspell_text(args) {
    return args.map((a) => (typeof a === "string" ? a : __llmspell_encode(a))).join(" ");
  }
  globalThis.console = {
    log: (...a) => globalThis.print(__llmspell_text(a)),
    info: (...a) => globalThis.print(__llmspell_text(a)),
    warn: (...a) => globalThis.Log.warn(__llmspell_text(a)),
    error: (...a) => globalThis.Log.error(__llmspell_text(a)),
  };

  function __llmspell_error_info(e) {
    if (e instanceof Error) return { message: String(e), stack: String(e.stack || ""), code: e.code || null };
    return { message: "Uncaught " + __llmspell_encode(e), stack: "", code: null };
  }

  function __llmspell_track(token, value) {
    Promise.resolve(value).then(
      function __llmspell_resolved(v) {
        __llmspell_enqueue(0, "__done", [token, true, v]);
      },
      function __llmspell_rejected(e) {
        __llmspell_enqueue(0, "__done", [token, false, __llmspell_error_info(e)]);
      },
    );
  }

  return {
    // The queued requests as one JSON array, or "" when there are none.
    drain: function __llmspell_drain() {
      if (queue.length === 0) return "";
      // Array.join, not "+": quickjs-ng builds a long concatenation as a rope the Python
      // binding cannot read ("Unknown quickjs tag: -6").
      const out = ["[", queue.join(","), "]"].join("");
      queue = [];
      return out;
    },
    // Settle a batch of replies: [[id, true, value] | [id, false, {message, code}], ...].
    settle: function __llmspell_settle(text) {
      for (const [id, ok, value] of __llmspell_decode(text)) {
        const p = pending.get(id);
        if (p === undefined) continue;
        pending.delete(id);
        if (ok) p.resolve(value);
        else p.reject(__llmspell_fail(value, p.error));
      }
    },
    // Call a function the script handed out; its (awaited) outcome is queued as "__done".
    invoke: function __llmspell_invoke(token, fnId, payload) {
      try {
        __llmspell_track(token, fns[fnId](...__llmspell_decode(payload)));
      } catch (e) {
        __llmspell_enqueue(0, "__done", [token, false, __llmspell_error_info(e)]);
      }
    },
    track: __llmspell_track,
    // Where the script is waiting: the stack of a pending host call, for timeout reports.
    waiting_at: function __llmspell_waiting_at() {
      for (const p of pending.values()) return String(p.error.stack || "");
      return "";
    },
  };
});
