-- Conformance fixture "live": our own rendering of the tables of Hasura's subscriptions/basic, live_queries and
-- streaming tests (schema hge_tests).
CREATE SCHEMA hge_tests;
CREATE TABLE hge_tests.test_t1 (c1 int, c2 text);
CREATE TABLE hge_tests.test_t2 (c1 int, c2 text, created_at timestamptz DEFAULT now());
CREATE TABLE hge_tests.articles (id serial PRIMARY KEY, content text, title text, is_public bool DEFAULT false);
