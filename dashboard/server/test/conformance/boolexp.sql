-- Conformance fixture "boolexp": our own rendering of the data of Hasura's graphql_query/boolexp/basic and
-- boolexp/search tests (authors with registration, articles, cities, orders, self-referencing messages, uuids, an
-- account table guarded by _exists, a sql_identifier column, and one column per type for _cast).
SET TIME ZONE 'UTC';
CREATE TABLE author (id serial PRIMARY KEY, name text UNIQUE, is_registered boolean NOT NULL DEFAULT false);
INSERT INTO author (name, is_registered) VALUES ('Author 1', true), ('Author 2', true), ('Author 3', false);
CREATE TABLE article (id serial PRIMARY KEY, title text, content text, author_id integer REFERENCES author(id), is_published boolean, published_on timestamp);
INSERT INTO article (title, content, author_id, is_published) VALUES ('Article 1', 'Sample article content 1', 1, false),
  ('Article 2', 'Sample article content 2', 1, true), ('Article 3', 'Sample article content 3', 2, false), ('Article 4', 'Sample article content 4', 3, true);
CREATE TABLE city (id serial PRIMARY KEY, name text NOT NULL, country text NOT NULL);
INSERT INTO city (name, country) VALUES ('Durham', 'USA'), ('New York', 'USA'), ('Framlingham', 'UK'), ('New Orleans', 'USA');
CREATE TABLE orders (id serial PRIMARY KEY, received_at timestamp NOT NULL, delivered_at timestamp);
INSERT INTO orders (received_at, delivered_at) VALUES ('2018-09-21T09:39:44', NULL), ('2018-09-21T09:40:44', '2018-09-21T09:50:44');
CREATE TABLE message (id int PRIMARY KEY, content text NOT NULL, parent_id int NULL REFERENCES message(id));
INSERT INTO message VALUES (1, 'hello world', NULL), (2, 'content 2', 1), (3, 'content 3', 1), (4, 'ahoy', NULL), (5, 'content 5', 4), (6, 'hello three', 4);
CREATE TABLE uuid_test (id serial PRIMARY KEY, uuid_col uuid NOT NULL);
INSERT INTO uuid_test (uuid_col) VALUES ('28d6d683-1317-49f7-b1cf-7d195242e4e5'), ('28d6d683-1317-49f7-b1cf-7d195242e4e6'), ('28d6d683-1317-49f7-b1cf-7d195242e4e7');
CREATE TABLE "user" (id serial PRIMARY KEY, name text NOT NULL UNIQUE, is_admin boolean DEFAULT false);
INSERT INTO "user" (name, is_admin) VALUES ('user_1', false), ('user_2', true);
CREATE TABLE account (id serial PRIMARY KEY, account_no integer NOT NULL UNIQUE);
INSERT INTO account (account_no) VALUES (1), (2);
CREATE TABLE table_with_sql_identifier (id serial PRIMARY KEY, sql_id information_schema.sql_identifier);
INSERT INTO table_with_sql_identifier (sql_id) VALUES ('one'), ('one'), ('two'), ('three'), ('four'), ('one'), ('two');
CREATE TABLE cast_test (id serial PRIMARY KEY, smallint_col smallint, integer_col integer, bigint_col bigint, float_col float,
  double_col double precision, numeric_col numeric, money_col money, boolean_col boolean, char_col char, date_col date,
  timestamp_col timestamp, timestamptz_col timestamptz, timetz_col timetz, json_col json, uuid_col uuid);
INSERT INTO cast_test (smallint_col) VALUES (123);
INSERT INTO cast_test (integer_col) VALUES (123);
INSERT INTO cast_test (bigint_col) VALUES (123);
INSERT INTO cast_test (float_col) VALUES (1.23);
INSERT INTO cast_test (double_col) VALUES (1.23);
INSERT INTO cast_test (numeric_col) VALUES (123);
INSERT INTO cast_test (money_col) VALUES (1.23);
INSERT INTO cast_test (boolean_col) VALUES (true);
INSERT INTO cast_test (char_col) VALUES ('a');
INSERT INTO cast_test (date_col) VALUES ('2018-05-12');
INSERT INTO cast_test (timestamp_col) VALUES ('2018-09-21T09:50:44');
INSERT INTO cast_test (timestamptz_col) VALUES ('2018-09-21T09:50:44');
INSERT INTO cast_test (timetz_col) VALUES ('09:50:44');
INSERT INTO cast_test (json_col) VALUES ('["foo"]');
INSERT INTO cast_test (uuid_col) VALUES ('28d6d683-1317-49f7-b1cf-7d195242e4e5');
INSERT INTO cast_test (smallint_col, integer_col, bigint_col, float_col, double_col, numeric_col, money_col, boolean_col, char_col, date_col,
  timestamp_col, timestamptz_col, timetz_col, json_col, uuid_col) VALUES (789, 789, 789, 7.89, 7.89, 789, 7.89, false, 'z', '2019-01-11',
  '2019-01-21T01:10:11', '2019-01-21T01:10:11', '01:51:11', '["bar"]', '28d6d683-1317-49f7-b1cf-7d195242e4e6');
