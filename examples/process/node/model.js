"use strict";
// A logistic scorer speaking the modelward process protocol (docs/process-protocol.md):
// one JSON request per line on stdin, one JSON answer per line on stdout, logs on stderr.
const fs = require("fs");
const path = require("path");
const readline = require("readline");

const model = JSON.parse(fs.readFileSync(path.join(__dirname, "weights.json"), "utf8"));
const features = Object.keys(model.weights);

function describe() {
  return {
    type: "describe",
    protocol: 1,
    name: "logistic-node",
    version: model.version,
    signature: {
      inputs: features.map((name) => ({ name, type: "double", nullable: false })),
      outputs: [
        { name: "probability", type: "double", nullable: true },
        { name: "label", type: "integer", nullable: true },
      ],
    },
    params: { threshold: "probability from which the label is 1 (default 0.5)" },
  };
}

function predict(request) {
  const threshold = request.params.threshold ?? 0.5;
  if (typeof threshold !== "number") throw new Error("threshold must be a number");
  for (const name of features) {
    if (!Array.isArray(request.columns[name])) throw new Error(`missing column ${name}`);
  }
  const rows = request.columns[features[0]].length;
  const probability = [];
  const label = [];
  for (let i = 0; i < rows; i++) {
    let z = model.intercept;
    for (const name of features) {
      const x = request.columns[name][i];
      z = x === null || z === null ? null : z + model.weights[name] * x;
    }
    const p = z === null ? null : 1 / (1 + Math.exp(-z));
    probability.push(p);
    label.push(p === null ? null : Number(p >= threshold));
  }
  return { type: "result", id: request.id, columns: { probability, label } };
}

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

readline.createInterface({ input: process.stdin })
  .on("line", (line) => {
    const request = JSON.parse(line);
    if (request.type === "describe") send(describe());
    else if (request.type === "shutdown") process.exit(0);
    else if (request.type === "predict") {
      try {
        send(predict(request));
      } catch (err) {
        send({ type: "error", id: request.id, message: err.message });
      }
    }
  })
  .on("close", () => process.exit(0));
console.error(`logistic-node ${model.version} ready (pid ${process.pid})`);
