-- Conformance fixture "jsonb": our own rendering of the data of Hasura's graphql_query/boolexp/jsonb tests
-- (articles tagged with a jsonb list, products with a jsonb spec).
CREATE TABLE author (id serial PRIMARY KEY, name text UNIQUE);
CREATE TABLE article (id serial PRIMARY KEY, title text, content text, author_id integer REFERENCES author(id), is_published boolean,
  published_on timestamp, tags jsonb);
CREATE TABLE product (id serial PRIMARY KEY, name text NOT NULL, category text NOT NULL, spec jsonb NOT NULL);
INSERT INTO author (name) VALUES ('Author 1'), ('Author 2');
INSERT INTO article (title, content, author_id, tags) VALUES ('Article 1', 'Sample article content 1', 1, NULL),
  ('Article 2', 'Sample article content 2', 1, '["bestseller", "latest"]'), ('Article 3', 'Sample article content 3', 2, '["latest"]');
INSERT INTO product (category, name, spec) VALUES
  ('Laptop', 'laptop1', '{"Operating System": "os1", "RAM": "8GB", "Disk": "128GB", "Weight": "1.2Kg", "Processor": "processor1"}'),
  ('Laptop', 'laptop2', '{"OS": "os2", "RAM": "16GB", "Disk": "128GB", "Weight": "1.2Kg", "Processor": "processor2", "Touchscreen": true}'),
  ('Mobile', 'mobile1', '{"Operating System Type": "osType1", "RAM": "3GB", "Weight": "200g", "Processor": "processor2", "Network type": "4G",
    "SIM type": "DualSim", "Sensors": "Accelerometer sensor, E-compass, Proximity sensor", "Touchscreen": true}'),
  ('Electric kettle', 'kettle1', '{"power": "1500W", "capacity": "1.5L", "dimensions": {"width": "20cm", "height": "19cm", "depth": "18cm"}}');
