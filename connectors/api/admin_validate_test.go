package api

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/schemas"
)

var validateNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func recordWithStatus(status *string) *schemas.ConfigRecord {
	return &schemas.ConfigRecord{TenantID: tenantA, Kind: catalog.KindSegment, ID: "x", Status: status}
}

// validationCase is one document for a kind's decode function: want
// lists the params of the expected errors, none for a valid document;
// check, when set, looks at the stored body of a valid one.
type validationCase struct {
	name  string
	doc   string
	want  []string
	check func(t *testing.T, body string)
}

func runValidation(t *testing.T, k *adminKind, cases []validationCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			d, errs := k.decode(&decodeInput{tenantID: tenantA, doc: []byte(tt.doc),
				nulls: topLevelNulls([]byte(tt.doc)), now: validateNow})
			var got []string
			for _, e := range errs {
				got = append(got, e.Param)
			}
			sort.Strings(got)
			want := append([]string(nil), tt.want...)
			sort.Strings(want)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("errors at %v, want %v: %+v", got, want, errs)
			}
			if tt.check != nil && len(errs) == 0 {
				b, err := json.Marshal(d.body)
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, string(b))
			}
		})
	}
}

func bodyHas(parts ...string) func(t *testing.T, body string) {
	return func(t *testing.T, body string) {
		t.Helper()
		for _, p := range parts {
			if !strings.Contains(body, p) {
				t.Fatalf("stored body %s lacks %s", body, p)
			}
		}
	}
}

func TestDecodeEconomy(t *testing.T) {
	const base = `"name":"E","effectiveFrom":"2026-01-01T00:00:00+01:00","basePointsPerUnit":1.5`
	runValidation(t, economyKind(), []validationCase{
		{name: "minimal", doc: `{` + base + `}`, check: bodyHas(
			`"effectiveFrom":"2025-12-31T23:00:00.000Z"`, `"basePointsPerUnit":1.5`,
			`"expiry":{"mode":"none"}`, `"reversalPolicy":"allowNegative"`, `"levels":[]`)},
		{name: "all fields", doc: `{` + base + `,"description":"d","currency":"eur",
			"expiry":{"mode":"pointsAging","period":{"n":2,"unit":"year"}},
			"levels":[{"id":"gold","name":"Gold","spendThreshold":1000},{"id":"silver","name":"Silver","spendThreshold":250.5}],
			"levelExpiry":{"mode":"inactivity","period":{"n":6,"unit":"month"}},
			"reversalPolicy":"capAtBalance","status":"Test","id":"ignored","version":7}`,
			check: bodyHas(`"currency":"EUR"`, `"levels":[{"id":"silver"`, `"spendThreshold":250.5`,
				`"levelExpiry":{"mode":"inactivity","period":{"n":6,"unit":"month"}}`)},
		{name: "levels default to untilAnniversary", doc: `{` + base + `,"levels":[{"id":"a","name":"A","spendThreshold":0}]}`,
			check: bodyHas(`"levelExpiry":{"mode":"untilAnniversary"}`)},
		{name: "nothing", doc: `{}`, want: []string{"/name", "/effectiveFrom", "/basePointsPerUnit"}},
		{name: "unknown field", doc: `{` + base + `,"rate":1}`, want: []string{"/rate"}},
		{name: "unknown field and bad values", doc: `{"name":"","effectiveFrom":"x","basePointsPerUnit":1,"rate":1}`,
			want: []string{"/rate", "/name", "/effectiveFrom"}},
		{name: "wrong type and bad values", doc: `{"name":5,"effectiveFrom":"x","basePointsPerUnit":1,"levels":{}}`,
			want: []string{"/name", "/effectiveFrom", "/levels"}},
		{name: "not an object", doc: `[1]`, want: []string{""}},
		{name: "malformed", doc: `{"name":`, want: []string{""}},
		{name: "rate as string", doc: `{"name":"E","effectiveFrom":"2026-01-01T00:00:00Z","basePointsPerUnit":"1"}`,
			want: []string{"/basePointsPerUnit"}},
		{name: "rate negative", doc: `{"name":"E","effectiveFrom":"2026-01-01T00:00:00Z","basePointsPerUnit":-1}`,
			want: []string{"/basePointsPerUnit"}},
		{name: "rate with 5 decimals",
			doc:  `{"name":"E","effectiveFrom":"2026-01-01T00:00:00Z","basePointsPerUnit":0.00001}`,
			want: []string{"/basePointsPerUnit"}},
		{name: "every field bad at once", doc: `{"name":" ","effectiveFrom":"2026-01-01","basePointsPerUnit":1,
			"currency":"EURO","reversalPolicy":"never","expiry":{"mode":"activityBased","period":{"n":11,"unit":"month"}},
			"levels":[{"id":"a b","name":"A","spendThreshold":1},{"name":"","spendThreshold":1}],
			"levelExpiry":{"mode":"untilAnniversary","period":{"n":1,"unit":"year"}}}`,
			want: []string{"/name", "/effectiveFrom", "/currency", "/reversalPolicy", "/expiry/period/n",
				"/levels/0/id", "/levels/1/id", "/levels/1/name", "/levels/1/spendThreshold", "/levelExpiry/period"}},
		{name: "duplicate level id", doc: `{` + base + `,"levels":[{"id":"a","name":"A","spendThreshold":1},
			{"id":"a","name":"B","spendThreshold":2}]}`, want: []string{"/levels/1/id"}},
		{name: "expiry none with period", doc: `{` + base + `,"expiry":{"mode":"none","period":{"n":1,"unit":"year"}}}`,
			want: []string{"/expiry/period"}},
		{name: "pointsAging without period", doc: `{` + base + `,"expiry":{"mode":"pointsAging"}}`,
			want: []string{"/expiry/period"}},
		{name: "pointsAging 6 years", doc: `{` + base + `,"expiry":{"mode":"pointsAging","period":{"n":6,"unit":"year"}}}`,
			want: []string{"/expiry/period/n"}},
		{name: "activityBased 12 months", doc: `{` + base + `,"expiry":{"mode":"activityBased","period":{"n":12,"unit":"month"}}}`},
		{name: "period in days refused", doc: `{` + base + `,"expiry":{"mode":"activityBased","period":{"n":400,"unit":"day"}}}`,
			want: []string{"/expiry/period/unit"}},
		{name: "unknown expiry mode", doc: `{` + base + `,"expiry":{"mode":"sometimes"}}`, want: []string{"/expiry/mode"}},
		{name: "status of wrong type", doc: `{` + base + `,"status":1}`, want: []string{"/status"}},
	})
}

func TestDecodeSegment(t *testing.T) {
	runValidation(t, segmentKind(), []validationCase{
		{name: "no expiry", doc: `{"name":"VIP"}`, check: bodyHas(`"expiry":{"mode":"none"}`)},
		{name: "period", doc: `{"name":"VIP","expiry":{"mode":"period","n":6,"unit":"month"}}`,
			check: bodyHas(`"expiry":{"mode":"period","n":6,"unit":"month"}`)},
		{name: "period 1827 days", doc: `{"name":"VIP","expiry":{"mode":"period","n":1827,"unit":"day"}}`},
		{name: "period too long", doc: `{"name":"VIP","expiry":{"mode":"period","n":61,"unit":"month"}}`,
			want: []string{"/expiry/n"}},
		{name: "period in hours", doc: `{"name":"VIP","expiry":{"mode":"period","n":6,"unit":"hour"}}`,
			want: []string{"/expiry/unit"}},
		{name: "period without n", doc: `{"name":"VIP","expiry":{"mode":"period","unit":"day"}}`,
			want: []string{"/expiry/n"}},
		{name: "anniversary", doc: `{"name":"VIP","expiry":{"mode":"untilAnniversaryPlusYear"}}`},
		{name: "anniversary with n", doc: `{"name":"VIP","expiry":{"mode":"untilAnniversary","n":1}}`,
			want: []string{"/expiry/n"}},
		{name: "date", doc: `{"name":"VIP","expiry":{"mode":"date","date":"2027-01-01T00:00:00Z"}}`,
			check: bodyHas(`"date":"2027-01-01T00:00:00.000Z"`)},
		{name: "date in the past", doc: `{"name":"VIP","expiry":{"mode":"date","date":"2026-02-01T00:00:00Z"}}`,
			want: []string{"/expiry/date"}},
		{name: "date too far", doc: `{"name":"VIP","expiry":{"mode":"date","date":"2031-03-02T00:00:00Z"}}`,
			want: []string{"/expiry/date"}},
		{name: "date missing", doc: `{"name":"VIP","expiry":{"mode":"date"}}`, want: []string{"/expiry/date"}},
		{name: "no name", doc: `{"description":"x"}`, want: []string{"/name"}},
		{name: "long description", doc: `{"name":"x","description":"` + strings.Repeat("d", 1025) + `"}`,
			want: []string{"/description"}},
	})
}

func TestDecodeTrigger(t *testing.T) {
	runValidation(t, triggerKind(), []validationCase{
		{name: "valid", doc: `{"name":"Cart","nameSpace":"Cart.Reminder","delay":{"n":3,"unit":"day"}}`,
			check: bodyHas(`"relativeTo":"event"`, `"delay":{"n":3,"unit":"day"}`)},
		{name: "customerCreated", doc: `{"name":"Welcome","nameSpace":"Welcome.Day30",
			"delay":{"n":30,"unit":"day"},"relativeTo":"customerCreated"}`},
		{name: "nothing", doc: `{}`, want: []string{"/name", "/nameSpace", "/delay"}},
		{name: "reserved nameSpace", doc: `{"name":"x","nameSpace":"Points.Earn","delay":{"n":1,"unit":"hour"}}`,
			want: []string{"/nameSpace"}},
		{name: "bad nameSpace", doc: `{"name":"x","nameSpace":"a b","delay":{"n":1,"unit":"hour"}}`,
			want: []string{"/nameSpace"}},
		{name: "zero delay", doc: `{"name":"x","nameSpace":"A","delay":{"n":0,"unit":"minute"}}`,
			want: []string{"/delay/n"}},
		{name: "delay in years", doc: `{"name":"x","nameSpace":"A","delay":{"n":1,"unit":"year"}}`,
			want: []string{"/delay/unit"}},
		{name: "bad relativeTo", doc: `{"name":"x","nameSpace":"A","delay":{"n":1,"unit":"hour"},"relativeTo":"now"}`,
			want: []string{"/relativeTo"}},
		{name: "status refused", doc: `{"name":"x","nameSpace":"A","delay":{"n":1,"unit":"hour"},"status":"Active"}`,
			want: []string{"/status"}},
	})
}

func TestDecodeWebhook(t *testing.T) {
	const tpl = `,"bodyTemplate":"{\"name\": {{customer.firstName}} }"`
	secret := "whsec_" + strings.Repeat("A", 32) // 24 bytes
	runValidation(t, webhookKind(), []validationCase{
		{name: "defaults", doc: `{"name":"W","url":"https://example.com/h"` + tpl + `}`,
			check: bodyHas(`"method":"POST"`, `"contentType":"application/json"`, `"timeout":"10s"`, `"headers":{}`)},
		{name: "everything", doc: `{"name":"W","url":"http://u:p@example.com:8080/h?x=1","method":"PUT",
			"headers":{"X-Api-Key":"k"},"contentType":"application/cloudevents+json; charset=utf-8",
			"timeout":"2500ms","secret":"` + secret + `"` + tpl + `}`,
			check: bodyHas(`"secret":"`+secret+`"`, `"X-Api-Key":"k"`)},
		{name: "nothing", doc: `{}`, want: []string{"/name", "/url", "/bodyTemplate"}},
		{name: "relative url", doc: `{"name":"W","url":"/h"` + tpl + `}`, want: []string{"/url"}},
		{name: "ftp url", doc: `{"name":"W","url":"ftp://example.com/h"` + tpl + `}`, want: []string{"/url"}},
		{name: "masked password on create", doc: `{"name":"W","url":"https://u:xxxxx@example.com/h"` + tpl + `}`,
			want: []string{"/url"}},
		{name: "refused headers", doc: `{"name":"W","url":"https://u:p@example.com/h","headers":{
			"Host":"x","content-type":"x","Webhook-Id":"x","Authorization":"x","Content-Length":"1",
			"Bad Name":"x","X-Ok":"a\nb","X-Num":1}` + tpl + `}`,
			want: []string{"/headers/Host", "/headers/content-type", "/headers/Webhook-Id", "/headers/Authorization",
				"/headers/Content-Length", "/headers/Bad Name", "/headers/X-Ok", "/headers/X-Num"}},
		{name: "authorization without credentials", doc: `{"name":"W","url":"https://example.com/h",
			"headers":{"Authorization":"Bearer t"}` + tpl + `}`},
		{name: "same header twice", doc: `{"name":"W","url":"https://example.com/h",
			"headers":{"X-A":"1","x-a":"2"}` + tpl + `}`, want: []string{"/headers/x-a"}},
		{name: "bad method, timeout, content type", doc: `{"name":"W","url":"https://example.com/h","method":"GET",
			"timeout":"31s","contentType":"json"` + tpl + `}`, want: []string{"/method", "/timeout", "/contentType"}},
		{name: "zero timeout", doc: `{"name":"W","url":"https://example.com/h","timeout":"0s"` + tpl + `}`,
			want: []string{"/timeout"}},
		{name: "short secret", doc: `{"name":"W","url":"https://example.com/h","secret":"whsec_AAAA"` + tpl + `}`,
			want: []string{"/secret"}},
		{name: "secret without prefix", doc: `{"name":"W","url":"https://example.com/h","secret":"` +
			strings.Repeat("A", 40) + `"` + tpl + `}`, want: []string{"/secret"}},
		{name: "template not JSON", doc: `{"name":"W","url":"https://example.com/h","bodyTemplate":"{\"a\": {{x}}"}`,
			want: []string{"/bodyTemplate"}},
		{name: "template not JSON is fine as text", doc: `{"name":"W","url":"https://example.com/h",
			"contentType":"text/plain","bodyTemplate":"Hello {{customer.firstName}}"}`},
		{name: "template too big", doc: `{"name":"W","url":"https://example.com/h","contentType":"text/plain",
			"bodyTemplate":"` + strings.Repeat("x", maxTemplateBytes+1) + `"}`, want: []string{"/bodyTemplate"}},
		{name: "hasSecret ignored", doc: `{"name":"W","url":"https://example.com/h","hasSecret":true` + tpl + `}`},
	})
}

func TestDecodeWebhookKeepsSecretAndPassword(t *testing.T) {
	stored := `{"name":"W","url":"https://bob:pw@example.com/h","method":"POST","headers":{},` +
		`"bodyTemplate":"{}","contentType":"application/json","timeout":"10s","secret":"whsec_` +
		strings.Repeat("A", 32) + `"}`
	prev := &schemas.ConfigRecord{Body: stored}
	tests := []struct {
		name, doc, url string
		secret         bool
	}{
		{name: "absent keeps", doc: `{"name":"W","url":"https://bob:xxxxx@example.com/h","bodyTemplate":"{}"}`,
			url: "https://bob:pw@example.com/h", secret: true},
		{name: "null removes", doc: `{"name":"W","url":"https://example.com/h","bodyTemplate":"{}","secret":null}`,
			url: "https://example.com/h"},
		{name: "other user must send a password", doc: `{"name":"W","url":"https://eve:xxxxx@example.com/h",
			"bodyTemplate":"{}"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, errs := decodeWebhook(&decodeInput{doc: []byte(tt.doc), prev: prev,
				nulls: topLevelNulls([]byte(tt.doc)), now: validateNow})
			if tt.url == "" {
				if len(errs) != 1 || errs[0].Param != "/url" {
					t.Fatalf("errors = %+v, want one at /url", errs)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("errors = %+v", errs)
			}
			b := d.body.(*webhookBody)
			if b.URL != tt.url || (b.Secret != "") != tt.secret {
				t.Fatalf("stored %+v", b)
			}
		})
	}
}

func TestDecodeTenant(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{name: "valid", doc: `{"name":"Acme","timeZone":"America/New_York","tenantId":"x","version":1}`},
		{name: "no zone means UTC", doc: `{"name":"Acme"}`},
		{name: "bad zone", doc: `{"name":"Acme","timeZone":"Mars/Olympus"}`, want: []string{"/timeZone"}},
		{name: "Local", doc: `{"name":"Acme","timeZone":"Local"}`, want: []string{"/timeZone"}},
		{name: "no name", doc: `{"timeZone":"UTC"}`, want: []string{"/name"}},
		{name: "unknown field", doc: `{"name":"Acme","email":{}}`, want: []string{"/email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := decodeTenant([]byte(tt.doc))
			var got []string
			for _, e := range errs {
				got = append(got, e.Param)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("errors at %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMergePatch(t *testing.T) {
	// Examples of RFC 7396, appendix A.
	tests := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		{`{"r":0.1}`, `{"s":1.00001}`, `{"r":0.1,"s":1.00001}`},
	}
	for _, tt := range tests {
		t.Run(tt.patch, func(t *testing.T) {
			p, err := parseMergePatch([]byte(tt.patch))
			if err != nil {
				t.Fatal(err)
			}
			got, err := applyMergePatch(json.RawMessage(tt.target), p)
			if err != nil || string(got) != tt.want {
				t.Fatalf("merge(%s, %s) = %s, %v; want %s", tt.target, tt.patch, got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{`[]`, `"x"`, `{`, `{} {}`} {
		if _, err := parseMergePatch([]byte(bad)); err == nil {
			t.Errorf("parseMergePatch(%s) accepted", bad)
		}
	}
}

// FuzzAdminDecode feeds arbitrary documents to every kind's validation:
// none may panic, and whatever one accepts must be stored in a form its
// view reads back.
func FuzzAdminDecode(f *testing.F) {
	for _, s := range []string{
		`{"name":"E","effectiveFrom":"2026-01-01T00:00:00Z","basePointsPerUnit":1.5}`,
		`{"name":"S","expiry":{"mode":"period","n":6,"unit":"month"}}`,
		`{"name":"T","nameSpace":"A.B","delay":{"n":1,"unit":"day"}}`,
		`{"name":"W","url":"https://u:p@example.com/h","bodyTemplate":"{\"a\": {{x}} }","secret":"generate"}`,
		`{"name":"K","scope":"events"}`, `{"levels":[{"id":"a"}]}`, `[]`, `{"headers":{"a":1}}`,
	} {
		f.Add(s)
	}
	kinds := []*adminKind{economyKind(), segmentKind(), triggerKind(), webhookKind()}
	f.Fuzz(func(t *testing.T, doc string) {
		for _, k := range kinds {
			d, errs := k.decode(&decodeInput{tenantID: tenantA, doc: []byte(doc),
				nulls: topLevelNulls([]byte(doc)), now: validateNow})
			if len(errs) > 0 {
				continue
			}
			body, err := marshalBody(d.body)
			if err != nil {
				t.Fatalf("%s: accepted %q but cannot store it: %v", k.noun, doc, err)
			}
			if _, err := k.viewBody(body); err != nil {
				t.Fatalf("%s: stored %s but cannot show it: %v", k.noun, body, err)
			}
		}
	})
}
