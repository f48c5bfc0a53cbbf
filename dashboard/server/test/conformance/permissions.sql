-- Conformance fixture "permissions": our own rendering of the data of Hasura's graphql_query/permissions tests
-- (authors with internal remarks, articles, a SETOF computed field, artists and tracks, books with a composite key,
-- a jsonb table, auctions, student marks with computed fields; PostGIS tables and tracked functions left out).
CREATE TABLE author (id serial PRIMARY KEY, name text UNIQUE, is_registered boolean NOT NULL DEFAULT false, remarks_internal text);
INSERT INTO author (name, remarks_internal) VALUES ('Author 1', 'remark 1'), ('Author 2', 'remark 2'), ('Author 3', 'remark 3');
CREATE TABLE article (id serial PRIMARY KEY, title text, content text, author_id integer NOT NULL REFERENCES author(id),
  is_published boolean NOT NULL DEFAULT false, published_on timestamp);
CREATE FUNCTION get_articles(author_row author) RETURNS SETOF article AS $$ SELECT * FROM article WHERE author_id = author_row.id $$ LANGUAGE sql STABLE;
INSERT INTO article (title, content, author_id, is_published) VALUES ('Article 1', 'Sample article content 1', 1, false),
  ('Article 2', 'Sample article content 2', 1, true), ('Article 3', 'Sample article content 3', 2, true), ('Article 4', 'Sample article content 4', 3, false);
CREATE TABLE "Artist" (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO "Artist" (id, name) VALUES (1, 'Camilla'), (2, 'DSP'), (3, 'Akon');
CREATE TABLE "Track" (id serial PRIMARY KEY, name text NOT NULL, artist_id integer REFERENCES "Artist"(id));
INSERT INTO "Track" (id, name, artist_id) VALUES (1, 'Keepup', 1), (2, 'Keepdown', 1), (3, 'Happy', 2);
CREATE TABLE books (id int, author_name text, book_name text, published_on timestamptz, PRIMARY KEY (id, book_name));
INSERT INTO books VALUES (1, 'J.K. Rowling', 'Harry Porter', '1997-06-26');
CREATE TABLE jsonb_table (id integer NOT NULL PRIMARY KEY, jsonb_col jsonb NOT NULL);
INSERT INTO jsonb_table VALUES (1, '{"name": "Hasura", "age": 7}'), (2, '{"name": "Cross"}');
CREATE TABLE auction (id serial PRIMARY KEY, price integer NOT NULL DEFAULT 250, bid_price integer);
INSERT INTO auction (bid_price) VALUES (100), (120), (300), (260);
CREATE TABLE student_marks (id serial PRIMARY KEY, name text UNIQUE NOT NULL, physics integer, chemistry integer, mathematics integer);
INSERT INTO student_marks (name, physics, chemistry, mathematics) VALUES ('clarke', 84, 67, 70), ('george', 56, 79, 70), ('blake', 66, 89, 78), ('leonel', 90, 93, 85);
CREATE FUNCTION student_total_marks(student_row student_marks) RETURNS integer AS $$ SELECT student_row.physics + student_row.chemistry + student_row.mathematics $$ LANGUAGE sql STABLE;
CREATE FUNCTION student_total_marks_offset(hasura_session json, student_row student_marks) RETURNS integer AS
  $$ SELECT student_row.physics + student_row.chemistry + student_row.mathematics - (hasura_session ->> 'x-hasura-offset-marks')::integer $$ LANGUAGE sql STABLE;
