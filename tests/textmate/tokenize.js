// Tokenizes a file with a TextMate grammar, as VS Code does, and prints one JSON list per
// line of [text, scopes] tokens.   node tokenize.js GRAMMAR.json SAMPLE.ind
"use strict";
const fs = require("fs");
const path = require("path");
const oniguruma = require("vscode-oniguruma");
const textmate = require("vscode-textmate");

async function main() {
  const [grammarPath, samplePath] = process.argv.slice(2);
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve("vscode-oniguruma")),
    "onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () => textmate.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"),
      grammarPath),
  });
  const grammar = await registry.loadGrammar("source.indicator");
  let state = textmate.INITIAL;
  const out = [];
  for (const line of fs.readFileSync(samplePath, "utf8").split("\n")) {
    const result = grammar.tokenizeLine(line, state);
    out.push(result.tokens.map((t) => [line.substring(t.startIndex, t.endIndex), t.scopes]));
    state = result.ruleStack;
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { console.error(err); process.exit(1); });
