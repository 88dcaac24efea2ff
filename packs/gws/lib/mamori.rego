# Helpers shared by the gws rules. Rules build their verdicts with `verdict` so that every
# result has the same shape: id, requirement_met, details in en and ja, offending resources.
package mamori.gws.lib

import rego.v1

verdict(id, met, en, ja) := {"id": id, "requirement_met": met, "details": {"en": en, "ja": ja}, "resources": []}

verdict_with(id, met, en, ja, resources) := {
	"id": id,
	"requirement_met": met,
	"details": {"en": en, "ja": ja},
	"resources": resources,
}

# Text for a list of names: "a, b, c" in English and "a、b、c" in Japanese.
names_en(xs) := concat(", ", sort([sprintf("%v", [x]) | some x in xs]))

names_ja(xs) := concat("、", sort([sprintf("%v", [x]) | some x in xs]))

# True when the value is an array with at least one element.
nonempty_array(x) if {
	is_array(x)
	count(x) > 0
}
