package catalog

import (
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Second)
	active := StatusActive
	cur := &schemas.ConfigRecord{Kind: KindRule, ID: "r", Version: 3, ChangedAt: t0, Body: `{"a":1}`}
	next := *cur
	next.Version, next.ChangedAt, next.Body = 4, t1, `{"a":2}`
	statusChange := *cur
	statusChange.ChangedAt, statusChange.Status = t1, &active

	tests := []struct {
		name   string
		cur    *schemas.ConfigRecord
		req    schemas.ConfigRequest
		write  bool
		status string
	}{
		{"create", nil, schemas.ConfigRequest{Record: *cur}, true, WriteDone},
		{"create over an existing object", cur, schemas.ConfigRequest{Record: next}, false, WriteConflict},
		{"edit of the current state", cur,
			schemas.ConfigRequest{Record: next, ExpectedVersion: 3, ExpectedChangedAt: &t0}, true, WriteDone},
		{"edit of an older version", cur,
			schemas.ConfigRequest{Record: next, ExpectedVersion: 2, ExpectedChangedAt: &t0}, false, WriteConflict},
		{"edit after a status change at the same version", &statusChange,
			schemas.ConfigRequest{Record: next, ExpectedVersion: 3, ExpectedChangedAt: &t0}, false, WriteConflict},
		{"edit of a deleted object", nil,
			schemas.ConfigRequest{Record: next, ExpectedVersion: 3, ExpectedChangedAt: &t0}, false, WriteConflict},
		{"the same edit seen again", &next,
			schemas.ConfigRequest{Record: next, ExpectedVersion: 3, ExpectedChangedAt: &t0}, false, WriteDone},
		{"delete of the current state", cur,
			schemas.ConfigRequest{Record: *cur, Delete: true, ExpectedVersion: 3, ExpectedChangedAt: &t0}, true, WriteDone},
		{"delete after an edit", &next,
			schemas.ConfigRequest{Record: *cur, Delete: true, ExpectedVersion: 3, ExpectedChangedAt: &t0}, false, WriteConflict},
		{"the same delete seen again", nil,
			schemas.ConfigRequest{Record: *cur, Delete: true, ExpectedVersion: 3, ExpectedChangedAt: &t0}, false, WriteDone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write, status := Decide(tt.cur, &tt.req)
			if write != tt.write || status != tt.status {
				t.Fatalf("Decide = %v, %s; want %v, %s", write, status, tt.write, tt.status)
			}
		})
	}
}
