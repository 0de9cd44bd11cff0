/**
 * Objects applications really hand to res.json: Sequelize model instances (columns in
 * dataValues, exposed through toJSON), class instances with getters, Dates, served over real
 * HTTP, with res.json's own settings honoured.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { DataTypes, Sequelize, type Model, type ModelStatic } from 'sequelize';
import { CHART_PHI, billing, doctor, makeApp } from './fixtures.js';

// No connection is opened: building instances needs the model definitions only.
const sequelize = new Sequelize('postgres://phiguard@127.0.0.1:1/none', { logging: false });
const Patient: ModelStatic<Model> = sequelize.define('Patient', { id: { type: DataTypes.STRING, primaryKey: true }, mrn: DataTypes.STRING, name: DataTypes.STRING }, { tableName: 'patients', timestamps: false });
const Lab: ModelStatic<Model> = sequelize.define('Lab', { code: DataTypes.STRING, value: DataTypes.FLOAT, note: DataTypes.TEXT, extra: DataTypes.STRING }, { tableName: 'labs', timestamps: false });

/** The fixture chart as Sequelize instances: `patient` and each lab are model instances. */
function chartOfModels() {
  return {
    id: 'ch-1',
    patient: Patient.build({ id: 4242, mrn: 'MRN-55514821', name: 'Zebulon Quartermaine' }),
    labs: [Lab.build({ code: '2345-7', value: 182, note: 'Zebulon called from 617-555-0142', extra: 'x' }), Lab.build({ code: '4548-4', value: 9.1, note: null })],
  };
}

describe('ORM instances over HTTP', () => {
  const { app, sink } = makeApp((a) => {
    a.get('/charts/:id', (_req, res) => void res.json(chartOfModels()));
    // A whole chart that is itself a class instance hiding its internals behind toJSON.
    a.get('/charts', (_req, res) => void res.json([{ toJSON: () => ({ id: 'ch-1', patient: { name: 'Zebulon Quartermaine' } }), internal: 'Zebulon' }]));
  });

  it('a Sequelize instance is projected on its toJSON(): the policy applies, never {} and never dataValues', async () => {
    const res = await request(app).get('/charts/ch-1').set(billing);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'ch-1', patient: { mrn: '****4821' }, labs: [{ code: '2345-7' }, { code: '4548-4' }] });
    const full = await request(app).get('/charts/ch-1').set(doctor);
    expect(full.body.patient).toEqual({ id: 4242, mrn: 'MRN-55514821', name: 'Zebulon Quartermaine' });
    expect(full.body.labs[0]).toEqual({ code: '2345-7', value: 182, note: 'Zebulon called from 617-555-0142' });
    expect(full.text).not.toMatch(/dataValues|_previousDataValues|isNewRecord|"extra"/);
    for (const phi of CHART_PHI.filter((p) => p !== '4242')) expect(res.text).not.toContain(phi);
  });

  it('the audit event names the patient read through the instance (the subject behind toJSON)', async () => {
    sink.events.length = 0;
    await request(app).get('/charts/ch-1').set(billing);
    expect(sink.events[0]?.patient?.ref).toMatch(/^pt_[\w-]{22}$/);
    expect([...sink.events[0]!.disclosed!].sort()).toEqual(['id', 'labs[].code', 'patient.mrn']);
  });

  it('a top-level list of toJSON objects: projected on what they serialize to', async () => {
    const res = await request(app).get('/charts').set(doctor);
    expect(res.body).toEqual([{ id: 'ch-1', patient: { name: 'Zebulon Quartermaine' } }]);
    expect((await request(app).get('/charts').set(billing)).body).toEqual([{ id: 'ch-1' }]);
  });

  it("an app's res.json settings (json spaces, replacer) are honoured: the object path serializes then", async () => {
    const { app: spaced } = makeApp((a) => {
      a.set('json spaces', 2);
      a.get('/charts/:id', (_req, res) => void res.json(chartOfModels()));
    });
    const res = await request(spaced).get('/charts/ch-1').set(billing);
    expect(res.text).toBe(JSON.stringify({ id: 'ch-1', patient: { mrn: '****4821' }, labs: [{ code: '2345-7' }, { code: '4548-4' }] }, null, 2));
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it('a handler-set Content-Type is kept on the serialized path', async () => {
    const { app: typed } = makeApp((a) => a.get('/charts/:id', (_req, res) => void res.type('application/fhir+json').json(chartOfModels())));
    const res = await request(typed).get('/charts/ch-1').set(billing);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(JSON.parse(res.text)).toEqual({ id: 'ch-1', patient: { mrn: '****4821' }, labs: [{ code: '2345-7' }, { code: '4548-4' }] });
  });
});
