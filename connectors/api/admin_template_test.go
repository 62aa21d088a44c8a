package api

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSampleContextIsJSON(t *testing.T) {
	var m map[string]any
	if err := json.Unmarshal([]byte(sampleContext), &m); err != nil {
		t.Fatalf("sample context: %v", err)
	}
	for _, k := range []string{"event", "customer", "customerPointsBalance", "rule", "tenantId", "webhookId", "deliveryId"} {
		if _, ok := m[k]; !ok {
			t.Errorf("sample context lacks %s", k)
		}
	}
}

func TestCheckTemplate(t *testing.T) {
	tests := []struct {
		name string
		src  string
		json bool
		want string // substring of the problem; "" for a valid template
	}{
		{name: "spec example", json: true,
			src: `{ "firstName": {{customer.firstName}}, "pointsBalance": {{customerPointsBalance.amount}} }`},
		{name: "mustache in string", json: true, src: `{"greeting": "Hello {{customer.firstName}}!"}`},
		{name: "object value", json: true, src: `{"event": {{event}}, "level": {{{customerPointsBalance.level}}} }`},
		{name: "comment and whitespace control", json: true, src: "{{! a comment }}\n{\"a\": {{~ rule.id ~}} }"},
		{name: "each with separators", json: true,
			src: `{"skus": [{{#each event.order.items}}{{#unless @first}},{{/unless}}{{sku}}{{/each}}]}`},
		{name: "if else", json: true, src: `{"vip": {{#if customer.optinEmail}}true{{else}}false{{/if}} }`},
		{name: "helper with arguments", json: true, src: `{"sku": {{lookup event.order "currency"}} }`},
		{name: "escaped quote before mustache", json: true, src: `{"a": "say \"{{customer.firstName}}\""}`},
		{name: "plain text", src: `Hello {{customer.firstName}}`},

		{name: "not closed", json: true, src: `{"a": {{x}`, want: "line 1"},
		{name: "unclosed block", json: true, src: "{\n\"a\": {{#if x}}1\n}", want: "{{#if}} opened at line 2, column 6 is not closed"},
		{name: "mismatched block", src: "{{#if x}}{{/each}}", want: "does not close {{#if}}"},
		{name: "else outside a block", src: "a{{else}}b", want: "outside a block at line 1, column 2"},
		{name: "syntax error", src: "{{a =}}", want: "on line 1"},
		{name: "raymond panics", json: true, src: "{{#if 0 A}}{{/if}}", want: "cannot be evaluated"},
		{name: "triple brace", json: true, src: `{"a": {{x}}}`, want: "triple-stash"},
		{name: "partial", json: true, src: `{{> footer}}`, want: "partials are not supported"},
		{name: "missing comma", json: true, src: "{\"a\": 1\n \"b\": {{x}} }",
			want: "line 2, column 2"},
		{name: "two values", json: true, src: `{"a": {{x}} {{y}} }`, want: "column 13"},
		{name: "mustache as key", json: true, src: `{ {{x}}: 1 }`, want: "does not yield valid JSON"},
		{name: "unterminated string", json: true, src: `{"a": "{{x}} }`, want: "does not yield valid JSON"},
		{name: "bad each output", json: true, src: `[{{#each event.order.items}}{{sku}},{{/each}}]`,
			want: "rendered against the sample context"},
		{name: "empty JSON template", json: true, src: ``, want: "does not yield valid JSON"},
		{name: "empty text template", src: ``},
		{name: "too big", src: strings.Repeat("x", maxTemplateBytes+1), want: "65536"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkTemplate(tt.src, tt.json)
			if tt.want == "" && got != "" {
				t.Fatalf("checkTemplate = %q, want valid", got)
			}
			if !strings.Contains(got, tt.want) || (tt.want != "" && got == "") {
				t.Fatalf("checkTemplate = %q, want it to mention %q", got, tt.want)
			}
		})
	}
}

func TestRewriteForJSON(t *testing.T) {
	src := `{"a": {{~x.y~}}, "b": "{{{z}}}", "c": {{lookup x "y"}} }`
	got := rewriteForJSON(src, scanMustaches(src, lexTokens(src)))
	want := `{"a": {{~tallymarksJSONValue x.y~}}, "b": "{{tallymarksJSONString z}}", ` +
		`"c": {{tallymarksJSONValue (lookup x "y")}} }`
	if got != want {
		t.Fatalf("rewrite:\n got %s\nwant %s", got, want)
	}
}

func TestRenderJSONHelpers(t *testing.T) {
	tests := []struct {
		v           any
		value, text string
	}{
		{v: nil, value: "null", text: ""},
		{v: "a\"<b>\n", value: `"a\"<b>\n"`, text: `a\"<b>\n`},
		{v: json.Number("12.50"), value: "12.50", text: "12.50"},
		{v: true, value: "true", text: "true"},
		{v: map[string]any{"id": "gold"}, value: `{"id":"gold"}`, text: `{\"id\":\"gold\"}`},
	}
	for _, tt := range tests {
		if got := string(renderJSONValue(tt.v)); got != tt.value {
			t.Errorf("renderJSONValue(%v) = %s, want %s", tt.v, got, tt.value)
		}
		if got := string(renderJSONString(tt.v)); got != tt.text {
			t.Errorf("renderJSONString(%v) = %s, want %s", tt.v, got, tt.text)
		}
	}
}

// FuzzCheckTemplate checks that no template, however broken, panics the
// validation or makes it accept output that is not JSON.
func FuzzCheckTemplate(f *testing.F) {
	for _, s := range []string{
		`{"a": {{x}} }`, `{"a": "{{x}}"}`, `[{{#each a}}{{this}}{{/each}}]`, `{{{{raw}}}}{{x}}{{{{/raw}}}}`,
		`\{{x}}`, `{{!-- c --}}`, `{{#if 0 A}}{{/if}}`, `{{#if a}}{{else if b}}{{else}}{{/if}}`, `{{x`, `}}`, `{"a": {{x}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if checkTemplate(src, true) != "" {
			return
		}
		m := scanMustaches(src, lexTokens(src))
		if m.static {
			if msg := checkStaticJSON(src, m); msg != "" {
				t.Fatalf("accepted %q, yet its shape is not JSON: %s", src, msg)
			}
		}
	})
}
