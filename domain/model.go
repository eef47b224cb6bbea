package domain

// Model is the application model a user designs: a title, a colour and the
// document types with their fields. The factory writes it as JSON into the
// tenant's image (model.json), where the platform reads it.
type Model struct {
	Title    string    `json:"title"`
	Color    string    `json:"color"`
	Doctypes []Doctype `json:"doctypes"`
}

// Doctype is a document type of the model.
type Doctype struct {
	Name   string  `json:"name"`
	Fields []Field `json:"fields"`
}

// Field is a typed field of a document type; Choices are the options of a
// "choice" field.
type Field struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Choices []string `json:"choices,omitempty"`
}

// WithLists returns a copy of m whose document types and fields are empty
// lists rather than nil, so that its JSON shows [] instead of null: the API
// promises lists, and a model saved that way gives the same image whether it
// came from a form or from JSON.
func (m Model) WithLists() Model {
	out := Model{Title: m.Title, Color: m.Color, Doctypes: make([]Doctype, 0, len(m.Doctypes))}
	for _, d := range m.Doctypes {
		fields := make([]Field, 0, len(d.Fields))
		fields = append(fields, d.Fields...)
		out.Doctypes = append(out.Doctypes, Doctype{Name: d.Name, Fields: fields})
	}
	return out
}
