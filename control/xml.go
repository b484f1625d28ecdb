package control

import (
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"net/http"
)

// Namespace is the XML namespace of EC2 API version 2016-11-15, the version
// every current SDK and the CLI send.
const Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// head opens every successful answer: EC2's namespace and the request id.
// Response types embed it, which encoding/xml flattens into them.
type head struct {
	Xmlns     string `xml:"xmlns,attr"`
	RequestID string `xml:"requestId"`
}

func (h *head) setHead(id string) { h.Xmlns, h.RequestID = Namespace, id }

// reply is implemented by every response type through its embedded head.
type reply interface{ setHead(requestID string) }

// items is an EC2 list: a wrapper element holding <item> elements. It is
// written even when empty, as EC2 does, so that clients see an empty list
// rather than a missing one.
type items[T any] struct {
	Items []T `xml:"item"`
}

// errorDoc is EC2's error body.
type errorDoc struct {
	XMLName   xml.Name   `xml:"Response"`
	Errors    []errorXML `xml:"Errors>Error"`
	RequestID string     `xml:"RequestID"`
}

type errorXML struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

var (
	xmlContentType = []string{"text/xml;charset=UTF-8"}
	serverName     = []string{"AmazonEC2"}
)

func writeReply(w http.ResponseWriter, requestID string, r reply) {
	r.setHead(requestID)
	writeXML(w, http.StatusOK, r)
}

func writeError(w http.ResponseWriter, requestID string, e *apiError) {
	writeXML(w, e.status(), errorDoc{Errors: []errorXML{{e.Code, e.Message}}, RequestID: requestID})
}

func writeXML(w http.ResponseWriter, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		// Only a programming error (an unsupported field type) gets here.
		status = http.StatusInternalServerError
		body = []byte("<Response><Errors><Error><Code>InternalError</Code>" +
			"<Message>An internal error has occurred.</Message></Error></Errors></Response>")
	}
	h := w.Header()
	h["Content-Type"] = xmlContentType
	h["Server"] = serverName
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}

// newRequestID returns a random UUID, the form of EC2's request ids.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
