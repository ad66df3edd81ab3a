package funcs

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"
)

// Every pod renders the same few values through toYaml and nearly the
// same proxy config through protoToJSON, and both encoders cost more than
// the rest of a template. memo remembers their results by a key that
// encodes the whole input, so a hit returns exactly what the encoder would.

const (
	// memoMaxEntries bounds a memo; once full it stops remembering.
	memoMaxEntries = 512
	// memoMaxKey bounds what one entry keeps: bigger inputs are encoded
	// every time.
	memoMaxKey = 16 << 10
)

// memo is a bounded, concurrency-safe cache of one pure function's results.
type memo struct {
	m sync.Map // key string -> result string
	n atomic.Int64
}

func (c *memo) get(key string) (string, bool) {
	v, ok := c.m.Load(key)
	if !ok {
		return "", false
	}
	return v.(string), true
}

func (c *memo) put(key, result string) {
	if len(key) > memoMaxKey || c.n.Load() >= memoMaxEntries {
		return
	}
	if _, loaded := c.m.LoadOrStore(key, result); !loaded {
		c.n.Add(1)
	}
}

// memoToYaml is toYaml remembering its results for the values yamlValue
// understands, keyed by those values' content.
func memoToYaml() func(v any) string {
	c := &memo{}
	return func(v any) string {
		y, ok := yamlValue(v, 0)
		if !ok {
			return toYaml(v)
		}
		var b strings.Builder
		if !appendValueKey(&b, y, 0) {
			return toYaml(v)
		}
		key := b.String()
		if out, ok := c.get(key); ok {
			return out
		}
		out, ok := marshalYAMLValue(y)
		if !ok {
			return toYamlViaJSON(v)
		}
		c.put(key, out)
		return out
	}
}

// appendValueKey writes an injective encoding of a yamlValue result: every
// scalar tagged with its type, strings and collections length-prefixed,
// map keys sorted. It reports false for what it does not know.
func appendValueKey(b *strings.Builder, v any, depth int) bool {
	if depth > 100 || b.Len() > memoMaxKey {
		return false
	}
	switch x := v.(type) {
	case nil:
		b.WriteByte('n')
	case bool:
		if x {
			b.WriteByte('t')
		} else {
			b.WriteByte('f')
		}
	case string:
		b.WriteByte('s')
		b.WriteString(strconv.Itoa(len(x)))
		b.WriteByte(':')
		b.WriteString(x)
	case int:
		b.WriteByte('i')
		b.WriteString(strconv.Itoa(x))
		b.WriteByte(';')
	case uint64:
		b.WriteByte('u')
		b.WriteString(strconv.FormatUint(x, 10))
		b.WriteByte(';')
	case float64:
		b.WriteByte('d')
		b.WriteString(strconv.FormatUint(math.Float64bits(x), 16))
		b.WriteByte(';')
	case map[any]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			s, ok := k.(string)
			if !ok {
				return false
			}
			keys = append(keys, s)
		}
		slices.Sort(keys)
		b.WriteByte('m')
		b.WriteString(strconv.Itoa(len(keys)))
		b.WriteByte('{')
		for _, k := range keys {
			appendValueKey(b, k, depth+1)
			if !appendValueKey(b, x[k], depth+1) {
				return false
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('l')
		b.WriteString(strconv.Itoa(len(x)))
		b.WriteByte('[')
		for _, e := range x {
			if !appendValueKey(b, e, depth+1) {
				return false
			}
		}
		b.WriteByte(']')
	default:
		return false
	}
	return true
}

// memoProtoToJSON is protoToJSON remembering its results, keyed by the
// message's type and deterministic wire encoding: messages with the same
// key have the same content, hence the same JSON.
func memoProtoToJSON() func(msg proto.Message) string {
	c := &memo{}
	opts := proto.MarshalOptions{Deterministic: true}
	return func(msg proto.Message) string {
		if msg == nil || !msg.ProtoReflect().IsValid() {
			return protoToJSON(msg)
		}
		wire, err := opts.Marshal(msg)
		if err != nil {
			return protoToJSON(msg)
		}
		key := string(msg.ProtoReflect().Descriptor().FullName()) + "\x00" + string(wire)
		if out, ok := c.get(key); ok {
			return out
		}
		out := protoToJSON(msg)
		c.put(key, out)
		return out
	}
}
