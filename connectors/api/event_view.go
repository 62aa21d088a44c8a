package api

import (
	"github.com/tallymarks/tallymarks/schemas"
)

// ledgerEntryView is a ledger entry as the API shows it.
type ledgerEntryView struct {
	EntryID      string    `json:"entryId"`
	Type         string    `json:"type"`
	Points       int64     `json:"points"`
	BalanceAfter int64     `json:"balanceAfter"`
	EventID      string    `json:"eventId"`
	Source       string    `json:"source"`
	EconomyID    *string   `json:"economyId,omitempty"`
	RuleID       *string   `json:"ruleId,omitempty"`
	RuleVersion  *int      `json:"ruleVersion,omitempty"`
	ActionIndex  *int      `json:"actionIndex,omitempty"`
	Lots         []lotView `json:"lots"`
	OccurredAt   string    `json:"occurredAt"`
	RecordedAt   string    `json:"recordedAt"`
	Reason       *string   `json:"reason,omitempty"`
}

// lotView is the change one ledger entry made to one lot.
type lotView struct {
	LotID  string `json:"lotId"`
	Points int64  `json:"points"`
}

func newLedgerEntryView(e schemas.LedgerEntry) ledgerEntryView {
	lots := make([]lotView, 0, len(e.Lots))
	for _, l := range e.Lots {
		lots = append(lots, lotView{LotID: l.LotID, Points: l.Points})
	}
	return ledgerEntryView{
		EntryID: e.EntryID, Type: e.Type, Points: e.Points, BalanceAfter: e.BalanceAfter,
		EventID: e.EventID, Source: e.Source, EconomyID: e.EconomyID, RuleID: e.RuleID,
		RuleVersion: e.RuleVersion, ActionIndex: e.ActionIndex, Lots: lots,
		OccurredAt: formatTime(e.OccurredAt), RecordedAt: formatTime(e.RecordedAt), Reason: e.Reason,
	}
}
