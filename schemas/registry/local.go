package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// Local is an in-process schema registry speaking the Confluent REST API on a
// loopback listener, for `tallymarks dev` and tests: franz-go's srfake
// registry served on a real socket, so that any client, not only an
// sr.Client in this process, can use its URL.
//
// Limitation: it keeps schemas in memory only, so they are gone when it
// closes, and it accepts every schema without checking compatibility (the
// compatibility tests of package schemas stand in for that check).
type Local struct {
	reg  *srfake.Registry
	srv  *http.Server
	url  string
	done chan struct{}
	err  error // set by the serving goroutine before done closes
}

// NewLocal starts a Local registry listening on addr, a host:port; an empty
// addr means 127.0.0.1 on a port the system picks. It serves until Close.
func NewLocal(addr string) (*Local, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	// Binding a port does not block; there is nothing for a context to end.
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for the local schema registry: %w", err)
	}

	reg := srfake.NewRegistry()
	l := &Local{
		reg:  reg,
		srv:  &http.Server{Handler: reg.Handler(), ReadHeaderTimeout: 10 * time.Second},
		url:  "http://" + ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			l.err = fmt.Errorf("serving the local schema registry: %w", err)
		}
	}()
	return l, nil
}

// URL returns the registry's base URL, such as http://127.0.0.1:41234.
func (l *Local) URL() string { return l.url }

// Client returns a registry client for l, with opts applied after its URL.
func (l *Local) Client(opts ...sr.ClientOpt) (*sr.Client, error) {
	cl, err := sr.NewClient(append([]sr.ClientOpt{sr.URLs(l.url)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("creating local schema registry client: %w", err)
	}
	return cl, nil
}

// Close stops serving at once, closing open connections, waits for the
// serving goroutine to end, and returns any error it had. Its schemas are
// lost.
func (l *Local) Close() error {
	err := l.srv.Close()
	<-l.done
	return errors.Join(err, l.err)
}
