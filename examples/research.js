// Research: search the web, read the pages found, summarise them with an agent, chart them.
// Offline: see examples/research.toml. Run:
//   llmspell run examples/research.js --config examples/research.toml
// ARGS: the question (default "sandboxed tools") and the model (default offline/echo; try
// "openai/gpt-4o-mini" with OPENAI_API_KEY set).

const question = ARGS[0] ?? "sandboxed tools";
const model = ARGS[1] ?? "offline/echo";

const found = await Tool.execute("web-search", { query: question, max_results: 5 });
print(`${found.data.results.length} page(s) found for "${question}"`);

const rows = [];
const notes = [];
for (const hit of found.data.results) {
  const page = await Tool.execute("web-scraper", { url: hit.url, links: false });
  const text = page.data.markdown;
  const words = (text.match(/\S+/g) ?? []).length;
  rows.push({ page: hit.title, words });
  notes.push(`## ${hit.title}\n${text}`);
  print(`- ${hit.title} (${words} words): ${hit.url}`);
}

const writer = await Agent.create({
  name: "summariser",
  model,
  system_prompt: "Summarise the notes in three sentences.",
});
const summary = await writer.execute({ text: `Notes on ${question}:\n\n${notes.join("\n\n")}` });
print(`summary: ${summary.text.slice(0, 120).replaceAll("\n", " ")}...`);

const chart = await Tool.execute("data-visualizer", {
  type: "bar", data: rows, x: "page", y: "words",
  title: `Words per page: ${question}`, output: "research.png",
});
print(`chart: ${chart.text}`);
