-- Conformance fixture "blog": our own rendering of the data that Hasura's graphql-engine tests use for
-- graphql_query/basic, limits, aggregations and agg_perm (authors, articles, posts, a table of Postgres types,
-- a bigserial table). Times in UTC.
SET TIME ZONE 'UTC';
CREATE TYPE complex AS (r double precision, i double precision);
CREATE TYPE inventory_item AS (name text, supplier_id integer, price numeric);
CREATE TABLE test_types (
  c1_smallint smallint, c2_integer integer, c3_bigint bigint, c4_decimal decimal(5, 2), c5_numeric numeric(4, 3), c6_real real,
  c7_double_precision double precision, c8_smallserial smallserial, c9_serial serial, c10_bigserial bigserial, c11_varchar_3 varchar(3),
  c12_char_4 char(4), c13_text text, c14_timestamp timestamp, c15_timestamptz timestamptz, c16_date date, c17_time time,
  c18_time_with_zone time with time zone, c19_interval interval, c20_boolean boolean, c21_point point, c22_line line, c23_lseg lseg,
  c24_box box, c25_closed_path path, c26_open_path path, c27_polygon polygon, c28_circle circle, c29_cidr cidr, c30_inet inet,
  c31_macaddr macaddr, c32_json json, c33_jsonb jsonb, c34_text_array text[], c35_integer_2d_array integer[][], c36_uuid uuid,
  c37_composite_type_complex complex, c38_composite_type_inventory inventory_item, c39_range_integer int4range, c40_range_bigint int8range,
  c41_range_numeric numrange, c42_range_timestamp tsrange, c43_range_timestamptz tstzrange, c44_xml xml, c45_money money);
INSERT INTO test_types (c1_smallint, c2_integer, c3_bigint, c4_decimal, c5_numeric, c6_real, c7_double_precision, c11_varchar_3, c12_char_4,
  c13_text, c14_timestamp, c15_timestamptz, c16_date, c17_time, c18_time_with_zone, c19_interval, c20_boolean, c21_point, c22_line, c23_lseg,
  c24_box, c25_closed_path, c26_open_path, c27_polygon, c28_circle, c29_cidr, c30_inet, c31_macaddr, c32_json, c33_jsonb, c34_text_array,
  c35_integer_2d_array, c36_uuid, c37_composite_type_complex, c38_composite_type_inventory, c39_range_integer, c40_range_bigint,
  c41_range_numeric, c42_range_timestamp, c43_range_timestamptz, c44_xml, c45_money)
VALUES (32767, 2147483647, 9223372036854775807, 123.45, 1.234, 0.00390625, 16.0001220703125, 'abc', 'baaz', 'foo bar baz',
  '2004-10-19T10:23:54', '2015-10-17T14:42:43+00:00', '2014-09-14', '11:09:23', '15:22:23+00', '01:03:02', true, '(1,2)', '{2,3,-1}',
  '[(4,2),(3,1)]', '((31,12),(14,11))', '((0,0),(0,3),(1,0))', '[(0,0),(0,-1),(-3,0)]', '((0,0),(0,6),(2,0))', '<(-2,-3),3>',
  '192.168.100.128/25', '198.24.10.0', '08:00:2b:01:02:03',
  '{"a": "b", "obj": {"c1": "c2"}, "arr": [1, 2, 3], "_underscore": 0, "!@#$%^": "special", "translations": {"hello world!": "hi"}, "objs": [{"你好": "Hello!"}]}',
  '{"c": "d", "obj": {"e1": "e2"}, "arr": [4, 5, 6], "_underscore": 0, "!@#$%^": "special", "translations": {"hello world!": "hi"}, "objs": [{"你好": "Hello!"}]}',
  '{a,b,c}', '{{4,5,6},{7,8,9}}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '(1.23,-3.456)', '("fuzzy dice",42,1.99)', '[123,456)',
  '[1147483647,2147483647)', '[1.23,4.56]', '[2010-01-01 14:30:00,2010-01-01 15:30:02)', '(2011-02-05T12:03:00+00:00,2012-03-04T16:40:04+00:00]',
  '<foo>bar</foo>', 123.45);
CREATE TABLE author (id serial PRIMARY KEY, name text UNIQUE, "createdAt" timestamptz);
CREATE TABLE article (id serial PRIMARY KEY, title text, content text, author_id integer REFERENCES author(id), is_published boolean,
  published_on timestamp);
CREATE TABLE post (id serial PRIMARY KEY, title text, content text, author_id integer REFERENCES author(id));
INSERT INTO author (name, "createdAt") VALUES ('Author 1', '2017-09-21T09:39:44Z'), ('Author 2', '2017-09-21T09:50:44Z');
INSERT INTO article (title, content, author_id, is_published) VALUES ('Article 1', 'Sample article content 1', 1, false),
  ('Article 2', 'Sample article content 2', 1, true), ('Article 3', 'Sample article content 3', 2, true);
INSERT INTO post (title, content, author_id) VALUES ('Post 1', 'Post 1 Content', 1), ('Post 2', 'Post 2 Content', 1), ('Post 3', 'Post 3 Content', 1),
  ('Post 4', 'Post 4 Content', 2), ('Post 5', 'Post 5 Content', 2);
CREATE TABLE "user" (id bigserial PRIMARY KEY, name text NOT NULL, number bigint);
INSERT INTO "user" (name, number) VALUES ('User 1', 123456789), ('User 2', 123456780);
CREATE TABLE untracked (id integer PRIMARY KEY);
