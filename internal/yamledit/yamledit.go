// Package yamledit edits a user's YAML configuration file as a node tree,
// so that what edgectl adds to prometheus.yml or alertmanager.yml leaves
// the rest as written: comments, order, and keys edgectl does not know.
// Errors name the file and line.
package yamledit

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Parse reads a configuration file whose top level must be a mapping (an
// empty file is an empty mapping); name is used in errors.
func Parse(name string, data []byte) (doc, root *yaml.Node, err error) {
	doc = &yaml.Node{}
	if err := yaml.Unmarshal(data, doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if doc.Kind == 0 { // empty file
		doc = &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	root = doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%s:%d: top level must be a mapping", name, root.Line)
	}
	return doc, root, nil
}

// Encode writes doc after a header comment line, indented by two.
func Encode(header string, doc *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# %s\n", header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Scalar is a string node.
func Scalar(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}

// Lookup returns the value node of key in mapping m, or nil.
func Lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// Delete removes key from mapping m.
func Delete(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// Mapping returns the mapping under key, creating it when absent or null.
// A flow-style mapping ({a: 1}) becomes block style, so that added keys
// read well.
func Mapping(name string, m *yaml.Node, key string) (*yaml.Node, error) {
	return child(name, m, key, yaml.MappingNode, "!!map", "a mapping")
}

// Sequence returns the list under key, creating it when absent or null,
// in block style.
func Sequence(name string, m *yaml.Node, key string) (*yaml.Node, error) {
	return child(name, m, key, yaml.SequenceNode, "!!seq", "a list")
}

func child(name string, m *yaml.Node, key string, kind yaml.Kind, tag, what string) (*yaml.Node, error) {
	v := Lookup(m, key)
	switch {
	case v == nil:
		v = &yaml.Node{Kind: kind, Tag: tag}
		m.Content = append(m.Content, Scalar(key), v)
		return v, nil
	case v.Kind == yaml.AliasNode:
		return nil, fmt.Errorf("%s:%d: %s: YAML aliases are not supported here", name, v.Line, key)
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		v.Kind, v.Tag, v.Value = kind, tag, ""
	case v.Kind != kind:
		return nil, fmt.Errorf("%s:%d: %s must be %s", name, v.Line, key, what)
	}
	v.Style &^= yaml.FlowStyle
	return v, nil
}

// DropNamed removes the entries of list whose name field is name: an entry
// edgectl owns, which it writes anew.
func DropNamed(list *yaml.Node, name string) {
	kept := list.Content[:0]
	for _, e := range list.Content {
		if n := Lookup(e, "name"); n == nil || n.Value != name {
			kept = append(kept, e)
		}
	}
	list.Content = kept
}

// Append encodes v and appends it to list.
func Append(list *yaml.Node, v any) error {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return err
	}
	list.Content = append(list.Content, &n)
	return nil
}
