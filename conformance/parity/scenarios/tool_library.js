// A sample of the built-in tool library, one or more per category, and two sandbox refusals.
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7ljmRAAAAFElEQVR4nGNkYPjPAANMDEgAhQMAJHgBBSuUekUAAAAASUVORK5CYII=";

// files
await Tool.execute("file-operations", { operation: "write", path: "people.csv",
  content: "name,age\nada,36\nalan,41\ngrace,85\n" });
const found = await Tool.execute("file-search", { pattern: "*.csv" });
print("file-search", found.data.results.length, found.data.results[0].path);
await Tool.execute("archive-handler", { operation: "create", path: "people.zip", files: ["people.csv"] });
const listed = await Tool.execute("archive-handler", { operation: "list", path: "people.zip" });
print("archive-handler", listed.data.entries.length, listed.data.entries[0].name);

// data
const stats = await Tool.execute("csv-analyzer", { operation: "stats", path: "people.csv" });
const age = stats.data.columns[1];
print("csv-analyzer", stats.data.rows, age.name, age.type, age.min, age.max, age.mean, age.median);
const page = await Tool.execute("template-engine", { template: "{% for p in people %}{{ p }};{% endfor %}",
  variables: { people: ["ada", "alan"] } });
print("template-engine", page.text);
const checked = await Tool.execute("data-validation", { data: { age: -1 },
  rules: [{ field: "age", min: 0 }, { field: "name", required: true }] });
print("data-validation", checked.data.valid, checked.data.count);
for (const v of checked.data.violations) print("data-validation", v.path, v.message);

// utilities
const diff = await Tool.execute("diff-calculator", { operation: "json", old: { a: 1, b: [2, 3] }, new: { a: 1, b: [2, 4] } });
for (const change of diff.data.changes) print("diff-calculator", change.op, change.path, change.old, change.new);
const replaced = await Tool.execute("regex-tool", { operation: "replace", pattern: "(\\w+)@(\\w+)", text: "ada@home alan@work", replacement: "\\2:\\1" });
print("regex-tool", replaced.data.result);
const chunks = await Tool.execute("text-splitter", { operation: "paragraphs", text: "One.\n\nTwo.\n\nThree.", chunk_size: 8 });
print("text-splitter", chunks.data.count, chunks.data.chunks[2].start, chunks.data.chunks[2].text);

// system: closed by default
for (const [name, args] of [["process-executor", { command: "ls" }],
                            ["environment-reader", { operation: "get", name: "LLMSPELL_NOT_ALLOWED" }]]) {
  try {
    await Tool.execute(name, args);
    print(name, true);
  } catch (err) {
    print(name, false, err.message);
  }
}

// media
const info = await Tool.execute("image-processor", { operation: "info", data: PNG });
print("image-processor", info.data.format, info.data.width, info.data.height);
const jpeg = await Tool.execute("image-processor", { operation: "convert", data: PNG, format: "jpeg" });
for (const part of jpeg.parts) print("image-processor", part.type, part.mime_type);
