// A stand-in for the dialer's own server side in the netlify-cli test: it
// keeps contacts in the site's `contacts` store with the official
// @netlify/blobs client, as the dialer does (one blob per contact, key =
// contact id). Served by `netlify functions:serve` as a JS function, so it
// reaches the CLI's own local Blobs server, the one the Rust functions get
// in `event.blobs`.
//
//   PUT /.netlify/functions/dialer-contacts        body: a contact -> {"saved": id}
//   GET /.netlify/functions/dialer-contacts?id=ID  -> the contact, or 404
//   GET /.netlify/functions/dialer-contacts        -> every contact
import { getStore } from "@netlify/blobs";

export default async (req) => {
  const store = getStore({ name: "contacts", consistency: "strong" });
  const id = new URL(req.url).searchParams.get("id");
  if (req.method === "PUT") {
    const contact = await req.json();
    await store.setJSON(String(contact.id), contact);
    return Response.json({ saved: String(contact.id) });
  }
  if (id) {
    const contact = await store.get(id, { type: "json" });
    return contact ? Response.json(contact) : Response.json({ error: `no contact ${id}` }, { status: 404 });
  }
  const { blobs } = await store.list();
  const contacts = await Promise.all(blobs.map((blob) => store.get(blob.key, { type: "json" })));
  return Response.json(contacts);
};
