-- Conformance fixture "order_by": our own rendering of the data of Hasura's graphql_query/order_by tests (contacts,
-- authors, articles, albums with tracks and tags, employees).
CREATE TABLE contact (id serial PRIMARY KEY, phone integer, address text);
CREATE TABLE author (id serial PRIMARY KEY, name text UNIQUE, contact_id integer REFERENCES contact(id));
CREATE TABLE article (id serial PRIMARY KEY, title text, content text, author_id integer REFERENCES author(id), is_published boolean, published_on timestamp);
INSERT INTO contact (phone) VALUES (1234567890), (1234567891);
INSERT INTO author (name, contact_id) VALUES ('Author 1', 2), ('Author 2', 1);
INSERT INTO article (title, content, author_id, is_published) VALUES ('Article 1', 'Sample article content 1', 1, false),
  ('Article 2', 'Sample article content 2', 1, true), ('Article 3', 'Sample article content 3', 2, true);
CREATE TABLE "Album" (album_id integer NOT NULL PRIMARY KEY, title text NOT NULL);
CREATE TABLE "Track" (track_id integer NOT NULL PRIMARY KEY, name text NOT NULL, album_id integer REFERENCES "Album"(album_id),
  milliseconds integer NOT NULL, bytes integer NOT NULL);
INSERT INTO "Album" VALUES (1, 'Big Ones'), (2, 'Face Lift');
INSERT INTO "Track" VALUES (1, 'Restless', 1, 123654, 9836284), (2, 'Keepup', 1, 637483, 6382913), (3, 'Havana', 1, 234512, 986384),
  (4, 'Evil Walks', 2, 437294, 6284302), (5, 'Random', 2, 1094732, 6032547), (6, 'Good One', 2, 346208, 6732987), (7, 'Mistress', 2, 420985, 7521946);
CREATE TABLE employee (id serial PRIMARY KEY, name text NOT NULL UNIQUE, department text, salary integer);
INSERT INTO employee (name, department, salary) VALUES ('Kai', 'Engineering', 2345), ('Zara', 'Services', 1234), ('Kelsy', 'Services', 2134),
  ('Damien', 'Product', 3124), ('Kamila', 'Engineering', 4325), ('Dara', 'Product', 1209), ('Rickard', 'Services', 2223), ('Bent', 'Engineering', 4122);
