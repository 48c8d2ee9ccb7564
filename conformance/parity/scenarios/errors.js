// Failing calls raise catchable errors naming the tool and the error code.
await Tool.define({
  name: "parity.strict",
  input_schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
  handler: (args) => args.n,
});
await Tool.define({ name: "parity.fails", handler: (args) => { throw new Error("deliberate failure"); } });

// Messages carry the script's FILE:LINE, which differs between the .lua and .js twin: strip it.
async function attempt(name, args) {
  try {
    await Tool.execute(name, args);
    print(true);
  } catch (e) {
    print(false, e.message.replace(/[^\s']+\.js:\d+: (Error: )?/g, ""));
  }
}
await attempt("parity.strikt", {});
await attempt("parity.strict", {});
await attempt("parity.strict", { n: "seven" });
await attempt("parity.fails", {});
await attempt("no-such-tool-anywhere", {});
try {
  await Tool.execute(42);
} catch (e) {
  print(false, e.message);
}
await Tool.define({ name: "parity.nested", handler: async (args) => await Tool.execute("parity.missing", {}) });
await attempt("parity.nested", {});
try {
  await Tool.define({ name: "parity.badschema", input_schema: { type: "nonsense" }, handler: () => null });
} catch (e) {
  print(false, e.message);
}
