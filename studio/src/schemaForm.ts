// Form fields generated from the published JSON Schema (osop.schema.json):
// one field per scalar property of a node or an edge, with its type, its
// allowed values and its description.

import type { JsonSchema } from "./types";

export interface FormField {
  key: string;
  kind: "text" | "number" | "boolean" | "select" | "structured";
  options: string[];
  description: string;
}

function resolve(root: JsonSchema, schema: JsonSchema): JsonSchema {
  const ref = schema["$ref"];
  if (typeof ref === "string" && ref.startsWith("#/$defs/")) {
    const defs = root["$defs"] as Record<string, JsonSchema>;
    const target = defs[ref.slice("#/$defs/".length)];
    if (target) return { ...resolve(root, target), ...withoutRef(schema) };
  }
  return schema;
}

function withoutRef(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  delete out["$ref"];
  return out;
}

function types(schema: JsonSchema): string[] {
  const t = schema["type"];
  if (Array.isArray(t)) return t.map(String);
  return typeof t === "string" ? [t] : [];
}

export function formFields(root: JsonSchema | null, def: "node" | "edge"): FormField[] {
  if (root === null) return [];
  const defs = root["$defs"] as Record<string, JsonSchema> | undefined;
  const properties = (defs?.[def]?.["properties"] ?? {}) as Record<string, JsonSchema>;
  const fields: FormField[] = [];
  for (const [key, raw] of Object.entries(properties)) {
    const schema = resolve(root, raw);
    const description = String(raw["description"] ?? schema["description"] ?? "");
    const enumValues = schema["enum"];
    const t = types(schema);
    let kind: FormField["kind"];
    if (Array.isArray(enumValues)) kind = "select";
    else if (t.includes("object") || t.includes("array") || t.length === 0) kind = "structured";
    else if (t.includes("string")) kind = "text";
    else if (t.includes("number") || t.includes("integer")) kind = "number";
    else if (t.includes("boolean")) kind = "boolean";
    else kind = "structured";
    fields.push({ key, kind, options: Array.isArray(enumValues) ? enumValues.map(String) : [], description });
  }
  return fields;
}
