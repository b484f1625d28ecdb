// Command hello is the baseline bench/load.sh compares imds against: a bare
// net/http server answering every request with a 19-byte body, the size of
// an instance id, and the same few headers imds sends. Whatever imds costs
// beyond this server is the cost of being a metadata service.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
)

var body = []byte("i-0123456789abcdef0")

func main() {
	listen := flag.String("listen", "127.0.0.1:8081", "address to listen on")
	closeConns := flag.Bool("close", false, "answer with Connection: close, as imds does by default")
	flag.Parse()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	fmt.Fprintf(os.Stderr, "hello: listening on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, handler(*closeConns)))
}

// handler answers like imds's v1 instance-id: Server, Content-Type and
// Content-Length, plus Connection: close when closeConns is set.
func handler(closeConns bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Server", "x")
		h.Set("Content-Type", "text/plain")
		h.Set("Content-Length", "19")
		if closeConns {
			h.Set("Connection", "close")
		}
		w.Write(body)
	}
}
