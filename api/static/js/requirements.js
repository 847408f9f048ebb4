// Every element each chosen regime requires and a notice lacks — the same answer, in the same order,
// as registry.notices.documents.missing_elements gives the registry (tests/portal compare the two on
// a matrix of notices), so the form names all of them at once, before anything is signed. The
// pointers and their order come from the page's requirements data (rendered from REQUIREMENTS); the
// predicates are here, keyed by regime and pointer.

const statement = (name) => (n) => Boolean(n.statements && n.statements[name]);
const contact = (field) => (n) => Boolean(n.contact && n.contact[field] !== undefined);
const anyContact = (n) => ["email", "address", "phone"].some((field) => contact(field)(n));
const located = (n) => Boolean(n.material && n.material.locations && n.material.locations.length);
const jp = (field) => (n) => Boolean(n.jp_platform && n.jp_platform[field] !== undefined);
const workIdentified = (n) => n.subject.title !== undefined || n.subject.description !== undefined || Boolean(n.subject.claims && n.subject.claims.length);
const individualNamed = (n) => n.subject.title !== undefined || n.on_behalf_of !== undefined;

export const PREDICATES = {
  "dmca /signature": (n) => Boolean(n.signature),
  "dmca /subject/title": workIdentified,
  "dmca /material/locations": located,
  "dmca /contact/name": contact("name"),
  "dmca /contact/address": anyContact,
  "dmca /statements/good-faith": statement("good-faith"),
  "dmca /statements/accuracy": statement("accuracy"),
  "dmca /statements/authority-under-penalty-of-perjury": statement("authority-under-penalty-of-perjury"),
  "dsa /grounds": (n) => Boolean(n.grounds),
  "dsa /material/locations": located,
  "dsa /contact/name": contact("name"),
  "dsa /contact/email": contact("email"),
  "dsa /statements/good-faith": statement("good-faith"),
  "jp-platform /contact/name": contact("name"),
  "jp-platform /contact/email": anyContact,
  "jp-platform /material/locations": located,
  "jp-platform /jp_platform/infringed_right": jp("infringed_right"),
  "jp-platform /jp_platform/reason": jp("reason"),
  "no-fakes /subject/title": individualNamed,
  "no-fakes /material/locations": located,
  "no-fakes /signature": (n) => Boolean(n.signature),
  "no-fakes /contact/name": contact("name"),
  "no-fakes /contact/email": anyContact,
  "no-fakes /statements/good-faith": statement("good-faith"),
  "no-fakes /statements/authority": (n) => statement("authority")(n) || n.on_behalf_of !== undefined,
};

/**
 * [pointer, code, values] for everything the notice's regimes require and it lacks (code "missing"),
 * and for a regime that does not fit the subject's kind ("dmca_kind", "nofakes_kind").
 * `requirements` is {regime: [{pointer}, …]} as the page renders it.
 */
export function missingElements(notice, requirements) {
  const found = [];
  (notice.regimes || []).forEach((regime, number) => {
    if (regime === "dmca" && notice.subject.kind !== "work") found.push([`/regimes/${number}`, "dmca_kind", {}]);
    if (regime === "no-fakes" && notice.subject.kind === "work") found.push([`/regimes/${number}`, "nofakes_kind", {}]);
    for (const { pointer } of requirements[regime] || []) {
      const satisfied = PREDICATES[`${regime} ${pointer}`];
      if (!satisfied || !satisfied(notice)) found.push([pointer, "missing", { regime, pointer }]);
    }
  });
  return found;
}
