// A remote MCP server (server-filesystem over stdio) joins the catalog at run time.
const [, node, server, dir] = ARGS;
const fs = await MCP.connect({ name: "fs", command: node, args: [server, dir] });
print(fs.name, fs.state, fs.transport);

const mine = [];
for (const t of await MCP.tools("fs")) {
  if (t.name === "fs.list_directory" || t.name === "fs.read_text_file") {
    mine.push(t.name + ":" + t.tool);
  }
}
mine.sort();
print(mine.join(","));

const listing = await Tool.execute("fs.list_directory", { path: dir });
const entries = listing.text.split("\n").filter((line) => line.length > 0);
entries.sort();
print(entries.join(" | "));

const file = await Tool.execute("fs.read_text_file", { path: dir + "/hello.txt" });
print(file.text.replace(/\n$/, ""), file.is_error);

let ok = true;
let err = "";
try {
  await Tool.execute("fs.read_text_file", {});
} catch (e) {
  ok = false;
  err = String(e);
}
print(ok, err.includes("'path'"));

for (const s of await MCP.servers()) print(s.name, s.state, s.sessions);
await MCP.disconnect("fs");
print((await MCP.servers()).length);
