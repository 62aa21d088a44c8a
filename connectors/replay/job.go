// Package replay runs backtest jobs (SPEC-DECISIONS finding 34): it reads a
// tenant's past assessment records from Kafka or ClickHouse and feeds them
// to the backtest evaluator, and keeps each job's state where every API
// instance can read it.
//
// A job's state is a record of kind KindJob on the compacted config topic,
// written by the instance that runs the job and read by every instance's
// catalog: any instance answers GET for any job, and the state survives
// restarts. The running instance rewrites the record every
// HeartbeatInterval with its progress; a running job whose record has not
// been rewritten for StaleAfter is reported failed, since the instance that
// ran it is gone.
package replay

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tallymarks/tallymarks/processors/backtest"
	"github.com/tallymarks/tallymarks/schemas"
)

// KindJob is the config-record kind of backtest jobs: keys
// <tenantId>/backtest/<jobId>.
const KindJob = "backtest"

// Job statuses.
const (
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// Heartbeat timing of running jobs.
const (
	// HeartbeatInterval is how often a running job's record is rewritten.
	HeartbeatInterval = 10 * time.Second
	// StaleAfter is how long a running job's record may go unchanged
	// before the job is reported failed.
	StaleAfter = 6 * HeartbeatInterval
)

// Sources of past records, as a job names them.
const (
	SourceKafka      = "kafka"
	SourceClickHouse = "clickhouse"
)

// Messages of failed jobs. They are fixed texts: error details go to the
// log of the instance that ran the job, never to clients.
const (
	msgTooLarge = "the window holds more customers and cap counters than one backtest may keep; " +
		"narrow the window or list fewer rules"
	msgSource  = "reading past events failed; the server log of the instance that ran the job says why"
	msgStopped = "the instance running the backtest stopped before it finished; start the backtest again"
)

// body is the JSON body of a job's config record. Its status is the
// record's status.
type body struct {
	RuleIDs  []string          `json:"ruleIds"`
	From     time.Time         `json:"from"`
	To       time.Time         `json:"to"`
	Source   string            `json:"source"`
	Progress float64           `json:"progress"`
	Results  []backtest.Result `json:"results"`
	Error    string            `json:"error,omitempty"`
}

// View is a job as GET /admin/rules/backtest/{jobId} shows it.
type View struct {
	JobID     string            `json:"jobId"`
	Status    string            `json:"status"`
	Progress  float64           `json:"progress"`
	RuleIDs   []string          `json:"ruleIds"`
	From      string            `json:"from"`
	To        string            `json:"to"`
	Source    string            `json:"source"`
	CreatedAt string            `json:"createdAt"`
	ChangedAt string            `json:"changedAt"`
	Results   []backtest.Result `json:"results"`
	// Error says why a failed job failed.
	Error string `json:"error,omitempty"`
}

// viewOf returns the view of a job's record at now: a running job whose
// record went unchanged for StaleAfter shows as failed.
func viewOf(rec *schemas.ConfigRecord, now time.Time) (View, error) {
	var b body
	if err := json.Unmarshal([]byte(rec.Body), &b); err != nil {
		return View{}, fmt.Errorf("decoding backtest job %s: %w", rec.ID, err)
	}
	v := View{
		JobID: rec.ID, Status: StatusRunning, Progress: b.Progress, RuleIDs: b.RuleIDs,
		From: schemas.FormatTime(b.From), To: schemas.FormatTime(b.To), Source: b.Source,
		CreatedAt: schemas.FormatTime(rec.CreatedAt), ChangedAt: schemas.FormatTime(rec.ChangedAt),
		Results: b.Results, Error: b.Error,
	}
	if rec.Status != nil {
		v.Status = *rec.Status
	}
	if v.Status == StatusRunning && now.Sub(rec.ChangedAt) > StaleAfter {
		v.Status, v.Error = StatusFailed, msgStopped
	}
	if v.Results == nil {
		v.Results = []backtest.Result{}
	}
	return v, nil
}
